"""Module code TFX components execute: features, Transform and Trainer logic, custom components."""
