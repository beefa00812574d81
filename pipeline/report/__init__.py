"""Static HTML run report: the data it shows, its plots and the page renderer."""
