"""nn.functional.ctc_loss. Each sample feeds log_softmax(x) as log_probs: like torch, the
gradient with respect to log_probs assumes they are log-softmax outputs, so the numerical
gradient of a function matches only through log_softmax."""
from .spec import A, Bad, I, OpInfo


def _ctc(m, x, tg, il, tl, red, zi=False):
    lp = x.log_softmax(-1)
    return m.nn.functional.ctc_loss(lp, tg, il, tl, blank=0, reduction=red, zero_infinity=zi)


def _bad(**kw):
    def fn(m, x, tg):
        args = dict(input_lengths=(6, 5), target_lengths=(2, 2), blank=0, reduction="mean")
        args.update(kw)
        return m.nn.functional.ctc_loss(x, tg, **args)
    return fn


PAD = I([[1, 2, 0], [3, 3, 2]])
SAMPLES = [
    (A((6, 2, 4)), PAD, (6, 5), (2, 3), "mean"),                 # padded, repeated label
    (A((5, 4)), I([1, 2]), (5,), (2,), "none"),                   # unbatched
    (A((6, 2, 4), T=True), I([1, 2, 3]), I([6, 4]), I([2, 1]), "sum"),  # concatenated
    (A((6, 3, 4)), I([[2, 1], [1, 0], [3, 3]]), (6, 3, 2), (2, 0, 2), "none", True),
]
BAD = [
    Bad(_bad(blank=4), A((6, 2, 4)), PAD, exc=RuntimeError),
    Bad(_bad(input_lengths=(7, 5)), A((6, 2, 4)), PAD, exc=RuntimeError),
    Bad(_bad(reduction="avg"), A((6, 2, 4)), PAD, exc=ValueError),
    Bad(_bad(target_lengths=(2, 4)), A((6, 2, 4)), PAD, exc=RuntimeError),
    Bad(_bad(input_lengths=6), A((6, 2, 4)), PAD, exc=TypeError),
    Bad(_bad(target_lengths=(2, 2, 1)), A((6, 2, 4)), PAD, exc=RuntimeError),
    Bad(_bad(), A((6, 2, 4)), I([1, 2, 3]), exc=RuntimeError),     # concatenated too short
    Bad(_bad(), A((2, 6, 2, 4)), PAD, exc=RuntimeError),
]

OPS = [
    OpInfo("F.ctc_loss", _ctc, SAMPLES, bad=BAD,
           skip_kinds={"0d": "log_probs need a time and a class dim",
                       "broadcast": "one float input; lengths and targets are integers"}),
]
