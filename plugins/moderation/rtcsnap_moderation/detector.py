"""The contract every detector meets, built-in or third-party.

A detector is a class with a unique ``name``, an ``Options`` model (its settings, from
``[moderation.detector_options.NAME]``; unknown keys are errors) and ``detect_image``, which gets a
decoded RGB Pillow image and returns a `Finding`. ``detect`` takes bytes or an image, so a detector
can be run and tested on its own, without the moderator or any rules.

Constructing a detector must be cheap: the model loads lazily on the first ``detect`` (or on
``load()``, for a worker that wants to pay the cold start up front), once per process
(`rtcsnap_moderation.lazy`). A detector reports, it does not judge: thresholds and keywords are
the rules' job, so one detector run serves every app's rules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from rtcsnap_moderation.images import ImageInput, to_rgb
from rtcsnap_moderation.verdict import Detection, Finding, TextLine

if TYPE_CHECKING:
    from PIL.Image import Image


class NoOptions(BaseModel):
    """For a detector without settings: any key given is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Detector(ABC):
    """Base class of a moderation detector (see the module docstring for the contract)."""

    name: ClassVar[str]
    """Unique among registered detectors: lowercase letters, digits and ``_``, a letter first."""
    labels: ClassVar[frozenset[str] | None] = None
    """Every label it can emit, when known: rules naming another label are rejected up front."""
    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, options: BaseModel | Mapping[str, Any] | None = None) -> None:
        self.options: BaseModel = (
            options if isinstance(options, self.Options) else self.Options.model_validate(options or {})
        )

    def detect(self, image: ImageInput) -> Finding:
        """Run on encoded bytes (JPEG, PNG) or a Pillow image."""
        return self.detect_image(to_rgb(image))

    @abstractmethod
    def detect_image(self, image: Image) -> Finding:
        """Run on a decoded RGB image. Raise on failure: the moderator records the reason."""

    def load(self) -> float:
        """Load the model now; seconds spent (0.0 when already loaded or there is none)."""
        return 0.0

    def model_name(self) -> str | None:
        """What produced the findings (package version, model file), recorded in each `Finding`."""
        return None

    def finding(self, detections: Iterable[Detection] = (), text: Iterable[TextLine] = ()) -> Finding:
        """A successful `Finding` of this detector."""
        return Finding(
            detector=self.name, detections=tuple(detections), text=tuple(text), model=self.model_name()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"


__all__ = ["Detector", "NoOptions"]
