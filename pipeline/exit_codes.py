"""Exit codes of the `deepline` command, for people and schedulers."""

EXIT_PUSHED = 0  # the run completed and the model was pushed (or the command succeeded)
EXIT_FAILED = 1  # anything else went wrong
EXIT_USAGE = 2  # bad arguments or unusable input files
EXIT_INVALID_DATA = 3  # data validation stopped the run before training
EXIT_NOT_BLESSED = 4  # the run completed; the model was not blessed and not pushed
EXIT_BUSY = 5  # another run holds the output folder's run lock; nothing was done
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it); run again to resume
