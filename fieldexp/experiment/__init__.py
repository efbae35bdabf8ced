"""Randomised experiments: ITT, CACE, balance, randomisation inference, subgroups."""
