"""The `cfg` IR (funcskeleton's format). Being written: see issue 2."""


def serialize_cfg(src: str) -> str:
    raise NotImplementedError("cfg serializer not written yet")
