"""Shared numerics: pure array-in, dataclass-out functions.

Nothing in this package touches a DataFrame; the estimator layers
(:mod:`fieldexp.experiment`, :mod:`fieldexp.diffindiff`) prepare arrays and call these kernels.
"""
