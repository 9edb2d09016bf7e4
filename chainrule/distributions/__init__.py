"""Probability distributions (``torch.distributions``).

>>> import chainrule
>>> from chainrule.distributions import Normal, kl_divergence
>>> p, q = Normal(0.0, 1.0), Normal(1.0, 1.0)
>>> kl_divergence(p, q)
tensor(0.5000)
"""
from . import constraints
from .distribution import Distribution
from .dists import (Bernoulli, Categorical, Exponential, Independent, Laplace,
                    MultivariateNormal, Normal, OneHotCategorical, Uniform)
from .gamma import Beta, Dirichlet, Gamma
from . import kl
from .kl import kl_divergence, register_kl

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Exponential",
           "Gamma", "Independent", "Laplace", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl"]
