"""nn functions torch also exposes at top level (``torch.softmax``, ``torch.dropout``,
``torch.batch_norm``, ...), with the top-level signatures: required ``train`` flags, the
native argument order of batch_norm / instance_norm, and integer reduction codes."""
from ..ops import elementwise as E
from . import _f_activation as A
from . import _f_loss as L
from . import _f_norm as N

__all__ = ["softmax", "log_softmax", "relu_", "sigmoid_", "selu", "selu_", "celu", "celu_",
           "rrelu", "rrelu_", "threshold", "threshold_", "hardshrink", "prelu", "dropout",
           "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout", "alpha_dropout_",
           "feature_alpha_dropout", "feature_alpha_dropout_", "layer_norm", "group_norm",
           "batch_norm", "instance_norm", "rms_norm", "binary_cross_entropy_with_logits",
           "cosine_embedding_loss", "hinge_embedding_loss", "kl_div", "margin_ranking_loss",
           "poisson_nll_loss", "triplet_margin_loss"]

def _code(reduction, op):
    """torch's integer reduction codes: 1 mean, 2 sum, anything else none."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{op}(): argument 'reduction' must be int, not "
                        f"{type(reduction).__name__}")
    return {1: "mean", 2: "sum"}.get(reduction, "none")


def softmax(input, dim, *, dtype=None):
    """``nn.functional.softmax`` with a required dim.

    >>> import chainrule
    >>> chainrule.softmax(chainrule.tensor([0.0, 0.0]), 0)
    tensor([0.5000, 0.5000])
    """
    return A.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """``nn.functional.log_softmax`` with a required dim.

    >>> import chainrule
    >>> chainrule.log_softmax(chainrule.tensor([0.0, 0.0]), 0)
    tensor([-0.6931, -0.6931])
    """
    return A.log_softmax(input, dim, dtype=dtype)


def relu_(input):
    """In-place relu.

    >>> import chainrule
    >>> chainrule.relu_(chainrule.tensor([-1.0, 1.0]))
    tensor([0., 1.])
    """
    return A.relu_(input)


def sigmoid_(input):
    """In-place sigmoid.

    >>> import chainrule
    >>> chainrule.sigmoid_(chainrule.tensor([0.0]))
    tensor([0.5000])
    """
    return A._inplace(E.sigmoid, A._tensor_arg(input, "sigmoid_"), name="sigmoid_")


def selu(input):
    """``nn.functional.selu``.

    >>> import chainrule
    >>> chainrule.selu(chainrule.tensor([0.0]))
    tensor([0.])
    """
    return A.selu(input)


def selu_(input):
    """In-place selu.

    >>> import chainrule
    >>> chainrule.selu_(chainrule.tensor([0.0]))
    tensor([0.])
    """
    return A.selu_(input)


def celu(input, alpha=1.0):
    """``nn.functional.celu``.

    >>> import chainrule
    >>> chainrule.celu(chainrule.tensor([1.0]))
    tensor([1.])
    """
    return A.celu(input, alpha)


def celu_(input, alpha=1.0):
    """In-place celu.

    >>> import chainrule
    >>> chainrule.celu_(chainrule.tensor([1.0]))
    tensor([1.])
    """
    return A.celu_(input, alpha)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``nn.functional.rrelu``.

    >>> import chainrule
    >>> chainrule.rrelu(chainrule.tensor([1.0]))
    tensor([1.])
    """
    return A.rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """In-place rrelu.

    >>> import chainrule
    >>> chainrule.rrelu_(chainrule.tensor([1.0]))
    tensor([1.])
    """
    return A.rrelu_(input, lower, upper, training)


def threshold(input, threshold, value):
    """``nn.functional.threshold``.

    >>> import chainrule
    >>> chainrule.threshold(chainrule.tensor([0.5, 2.0]), 1.0, 0.0)
    tensor([0., 2.])
    """
    return A.threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """In-place threshold.

    >>> import chainrule
    >>> chainrule.threshold_(chainrule.tensor([0.5, 2.0]), 1.0, 0.0)
    tensor([0., 2.])
    """
    return A.threshold_(input, threshold, value)


def hardshrink(input, lambd=0.5):
    """``nn.functional.hardshrink``.

    >>> import chainrule
    >>> chainrule.hardshrink(chainrule.tensor([0.2, 1.0]))
    tensor([0., 1.])
    """
    return A.hardshrink(input, lambd)


def prelu(input, weight):
    """``nn.functional.prelu``.

    >>> import chainrule
    >>> chainrule.prelu(chainrule.tensor([-2.0]), chainrule.tensor([0.5]))
    tensor([-1.])
    """
    return A.prelu(input, weight)


def dropout(input, p, train):
    """``nn.functional.dropout`` (all arguments required).

    >>> import chainrule
    >>> chainrule.dropout(chainrule.ones(2), 0.5, False)
    tensor([1., 1.])
    """
    return N.dropout(input, p, train)


def dropout_(input, p, train):
    """In-place dropout.

    >>> import chainrule
    >>> chainrule.dropout_(chainrule.ones(2), 0.5, False)
    tensor([1., 1.])
    """
    return N.dropout(input, p, train, inplace=True)


def feature_dropout(input, p, train):
    """Channel dropout: whole slices input[n, c] are zeroed together.

    >>> import chainrule
    >>> chainrule.feature_dropout(chainrule.ones(1, 2), 0.5, False)
    tensor([[1., 1.]])
    """
    return N._dropout(input, p, train, False, True, False, "feature_dropout")


def feature_dropout_(input, p, train):
    """In-place feature_dropout.

    >>> import chainrule
    >>> chainrule.feature_dropout_(chainrule.ones(1, 2), 0.5, False)
    tensor([[1., 1.]])
    """
    return N._dropout(input, p, train, True, True, False, "feature_dropout")


def alpha_dropout(input, p, train):
    """``nn.functional.alpha_dropout`` (all arguments required).

    >>> import chainrule
    >>> chainrule.alpha_dropout(chainrule.ones(2), 0.5, False)
    tensor([1., 1.])
    """
    return N.alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    """In-place alpha_dropout.

    >>> import chainrule
    >>> chainrule.alpha_dropout_(chainrule.ones(2), 0.5, False)
    tensor([1., 1.])
    """
    return N.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input, p, train):
    """``nn.functional.feature_alpha_dropout`` (all arguments required).

    >>> import chainrule
    >>> chainrule.feature_alpha_dropout(chainrule.ones(1, 2), 0.5, False)
    tensor([[1., 1.]])
    """
    return N.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    """In-place feature_alpha_dropout.

    >>> import chainrule
    >>> chainrule.feature_alpha_dropout_(chainrule.ones(1, 2), 0.5, False)
    tensor([[1., 1.]])
    """
    return N.feature_alpha_dropout(input, p, train, inplace=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """``nn.functional.layer_norm``.

    >>> import chainrule
    >>> chainrule.layer_norm(chainrule.tensor([[1.0, 3.0]]), [2])
    tensor([[-1.0000,  1.0000]])
    """
    return N.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """``nn.functional.group_norm``.

    >>> import chainrule
    >>> chainrule.group_norm(chainrule.tensor([[1.0, 3.0]]), 1)
    tensor([[-1.0000,  1.0000]])
    """
    return N.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``nn.functional.rms_norm``.

    >>> import chainrule
    >>> chainrule.rms_norm(chainrule.tensor([[2.0, 2.0]]), [2])
    tensor([[1., 1.]])
    """
    return N.rms_norm(input, normalized_shape, weight, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """``nn.functional.batch_norm`` in the native argument order (weight and bias first).

    >>> import chainrule
    >>> x = chainrule.tensor([[1.0], [3.0]])
    >>> chainrule.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False)
    tensor([[-1.0000],
            [ 1.0000]])
    """
    return N.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    """``nn.functional.instance_norm`` in the native argument order.

    >>> import chainrule
    >>> x = chainrule.tensor([[[1.0, 3.0]]])
    >>> chainrule.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False)
    tensor([[[-1.0000,  1.0000]]])
    """
    return N.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """``nn.functional.binary_cross_entropy_with_logits``; reduction 0 none, 1 mean, 2 sum.

    >>> import chainrule
    >>> chainrule.binary_cross_entropy_with_logits(chainrule.zeros(1), chainrule.ones(1))
    tensor(0.6931)
    """
    r = _code(reduction, "binary_cross_entropy_with_logits")
    return L.binary_cross_entropy_with_logits(input, target, weight, reduction=r,
                                              pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    """``nn.functional.cosine_embedding_loss`` with an integer reduction code.

    >>> import chainrule
    >>> x = chainrule.tensor([[1.0, 0.0]])
    >>> chainrule.cosine_embedding_loss(x, x, chainrule.tensor([1.0]))
    tensor(0.)
    """
    return L.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_code(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    """``nn.functional.hinge_embedding_loss`` with an integer reduction code.

    >>> import chainrule
    >>> chainrule.hinge_embedding_loss(chainrule.tensor([0.3]), chainrule.tensor([1.0]))
    tensor(0.3000)
    """
    return L.hinge_embedding_loss(input, target, margin,
                                  reduction=_code(reduction, "hinge_embedding_loss"))


def kl_div(input, target, reduction=1, *, log_target=False):
    """``nn.functional.kl_div`` with an integer reduction code.

    >>> import chainrule
    >>> p = chainrule.tensor([0.5, 0.5])
    >>> chainrule.kl_div(p.log(), p, 2)
    tensor(0.)
    """
    L._pair(input, target, "kl_div")
    return L._kl_div(input, target, _code(reduction, "kl_div"), log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    """``nn.functional.margin_ranking_loss`` with an integer reduction code.

    >>> import chainrule
    >>> one = chainrule.tensor([1.0])
    >>> chainrule.margin_ranking_loss(one, one * 2, one)
    tensor(1.)
    """
    return L.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_code(reduction, "margin_ranking_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``nn.functional.poisson_nll_loss`` (all arguments required, integer reduction).

    >>> import chainrule
    >>> chainrule.poisson_nll_loss(chainrule.zeros(1), chainrule.ones(1), True, False, 1e-8, 1)
    tensor(1.)
    """
    return L.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_code(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False,
                        reduction=1):
    """``nn.functional.triplet_margin_loss`` with an integer reduction code.

    >>> import chainrule
    >>> a = chainrule.tensor([[0.0, 0.0]])
    >>> chainrule.triplet_margin_loss(a, a, a + 3.0, eps=0.0)
    tensor(0.)
    """
    return L.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_code(reduction, "triplet_margin_loss"))
