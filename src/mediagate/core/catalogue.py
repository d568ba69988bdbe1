"""The model catalogue: loads catalogue.toml and validates generation parameters against it."""

from __future__ import annotations

import base64
import binascii
import enum
import re
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

import msgspec

from mediagate.core.errors import BannedPromptError, InvalidRequestError
from mediagate.core.money import to_micros
from mediagate.core.params import ActionSpec, ParamSpec, Value, check_entry, check_options

MAX_PROMPT_CHARS = 8000
MAX_IMAGE_URL_CHARS = 4096
MAX_DATA_URL_BYTES = 10 * 1024 * 1024
BLOB_PREFIX = "blob:"  # core.images.BLOB_REF: our own stored file


class Kind(enum.StrEnum):
    """What a model makes (its main output); ``ModelSpec.outputs`` lists every kind."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"
    DOCUMENT = "document"  # a presentation, a page: a file that is neither picture nor sound


PLURAL = {
    Kind.IMAGE: "images",
    Kind.VIDEO: "videos",
    Kind.AUDIO: "audio",
    Kind.TEXT: "text",
    Kind.DOCUMENT: "documents",
}

# The roles an input image may play. A model lists the ones it takes in ``image_roles``.
IMAGE_ROLES = ("first_frame", "last_frame", "reference", "edit", "mask", "face", "source")


class ImageInput(enum.StrEnum):
    NONE = "none"
    FIRST_FRAME = "first_frame"
    EDIT = "edit"


class ModelSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One catalogue entry; ``id`` is filled from the table key."""

    title: str
    kind: Kind
    format: str
    vendor: str
    aspect_ratios: list[str]
    default_aspect_ratio: str
    sizes: dict[str, tuple[int, int]]
    image_input: ImageInput = ImageInput.NONE
    max_images: int = 0
    durations: list[int] = []
    default_duration: int | None = None
    max_samples: int = 1
    fps: int | None = None
    deadline_s: int = 600
    price: str = "0"
    price_unit: str = "image"
    # The open part: a family (the dialect and sandbox renderer that know the model's
    # ways), its own typed parameters, the roles its images may play, every kind of output
    # it makes, the actions its results allow, how many files one task makes at most (0:
    # sample_count) and the name the vendor's own wire format gives it.
    family: str = ""
    params: dict[str, ParamSpec] = {}
    image_roles: list[str] = []
    outputs: list[Kind] = []
    actions: dict[str, ActionSpec] = {}
    max_files: int = 0
    wire_name: str = ""
    max_prompt_chars: int = MAX_PROMPT_CHARS
    prompt_required: bool = True
    banned_words: list[str] = []  # whole words, any case; the deployment may add its own
    min_images: int = 0  # an image-to-video model that cannot start without its first frame
    # [min, max, multiple]: the model also takes any exact size "WxH" within these bounds
    # (BFL's FLUX: 256..1440, multiples of 32), besides its listed ratios.
    free_sizes: list[int] = []
    max_input_pixels: int = 0  # an input image's width x height; 0: the deployment's cap
    # A chat model that drafts one of the model's options from the prompt when the caller
    # gives none (a presentation's outline from its topic), through the text relay, on the
    # same key and billed there (``core.ports.Drafter``).
    draft_model: str = ""
    draft_option: str = ""
    id: str = ""

    @property
    def content_type(self) -> str:
        return f"{self.kind.value}/{self.format}"

    @property
    def output_kinds(self) -> list[Kind]:
        return self.outputs or [self.kind]

    def action(self, name: str) -> ActionSpec:
        """The action by name, or InvalidRequestError listing this model's actions."""
        found = self.actions.get(name)
        if found is None:
            allowed = sorted(self.actions) or ["none"]
            raise InvalidRequestError("action", f"{name!r} is not an action of {self.id}", allowed)
        return found

    def size_for(self, aspect_ratio: str) -> tuple[int, int]:
        """The size of a listed ratio, or an exact ``WxH`` where the model takes any size
        within ``free_sizes``."""
        found = self.sizes.get(aspect_ratio)
        if found is not None:
            return found
        exact = free_size(self, aspect_ratio)
        if exact is None:
            raise KeyError(aspect_ratio)
        return exact


class _CatalogueFile(msgspec.Struct, forbid_unknown_fields=True):
    models: dict[str, ModelSpec]


class GenerationParams(msgspec.Struct, frozen=True):
    """Parameters after validation: every field is explicit and allowed."""

    aspect_ratio: str
    images: tuple[str, ...] = ()
    duration_seconds: int | None = None
    sample_count: int = 1
    ar_given: bool = False
    # The open task model: the model's own parameters as one validated document, the role
    # of each image (parallel to ``images``; empty: the model's default role), and for a
    # follow-up, the action and the task it acts on (with that task's upstream job id).
    options: dict[str, Value] = {}
    roles: tuple[str, ...] = ()
    action: str = ""
    parent_id: str = ""
    parent_upstream: str = ""
    asked_as: str = ""  # the alias the caller named (gpt-image-1, sora-2), echoed back
    # Fields the caller sent that this model does not take and that its vendor ignores
    # (Kling's cfg_scale on v2.x): accepted, dropped, and said so in the task's answer.
    ignored: tuple[str, ...] = ()
    # Which of several tasks made for one request this is (OpenAI's n=4 on a model that
    # makes one image a task): each its own picture.
    batch: int = 0


class Catalogue:
    """All models this build knows, keyed by public model id."""

    def __init__(
        self,
        models: dict[str, ModelSpec],
        aliases: dict[str, str] | None = None,
        banned: list[str] | None = None,
    ) -> None:
        self.banned = frozenset(w.lower() for w in banned or ())
        self._families: dict[tuple[str, Kind | None], dict[str, ModelSpec]] = {}
        for name, spec in models.items():
            _check_entry(name, spec)
        self.models = {
            name: msgspec.structs.replace(spec, id=name) for name, spec in models.items()
        }
        self.aliases: dict[str, str] = {}
        for alias, target in (aliases or {}).items():
            if target not in self.models:
                raise ValueError(f"model alias {alias!r} names {target!r}, which is no model")
            if alias in self.models:
                raise ValueError(f"model alias {alias!r} would hide the model of that name")
            self.aliases[alias] = target

    def family_models(self, family: str, kind: Kind | None = None) -> dict[str, ModelSpec]:
        """A family's models by the name its own wire format gives them (``wire_name``),
        of one kind if given; made once per (family, kind)."""
        found = self._families.get((family, kind))
        if found is None:
            found = {
                m.wire_name: m
                for m in self.models.values()
                if m.family == family and (kind is None or m.kind is kind)
            }
            self._families[(family, kind)] = found
        return found

    def family_model(
        self, family: str, wire: str, param: str = "model", kind: Kind | None = None
    ) -> ModelSpec:
        """The family's model a vendor format names, or InvalidRequestError naming ``param``
        and listing the names there are."""
        found = self.family_models(family, kind)
        if wire not in found:
            what = f"a {family} {kind.value} model" if kind else f"a {family} model"
            raise InvalidRequestError(param, f"{wire!r} is not {what} here", sorted(found))
        return found[wire]

    def with_aliases(self, aliases: dict[str, str]) -> Catalogue:
        """The same models, also known by other names (``gpt-image-1`` -> a model here)."""
        return Catalogue(dict(self.models), aliases, sorted(self.banned))

    def with_banned(self, words: list[str]) -> Catalogue:
        """The same models, with words no prompt may hold on this deployment."""
        return Catalogue(dict(self.models), dict(self.aliases), [*self.banned, *words])

    @classmethod
    def from_toml(cls, text: bytes | str) -> Catalogue:
        return cls(msgspec.toml.decode(text, type=_CatalogueFile).models)

    def get(self, model: str) -> ModelSpec:
        """The model by id or alias; a task always records the model's own id."""
        spec = self.models.get(model) or self.models.get(self.aliases.get(model, ""))
        if spec is None:
            allowed = sorted(self.models) + sorted(self.aliases)
            raise InvalidRequestError("model", f"unknown model {model!r}", allowed)
        return spec

    def validate(
        self,
        model: str,
        prompt: str,
        *,
        aspect_ratio: str | None = None,
        images: list[str] | None = None,
        duration_seconds: int | None = None,
        sample_count: int | None = None,
        options: dict[str, object] | None = None,
        roles: list[str] | None = None,
        action: str = "",
        prompt_required: bool | None = None,
        trusted: int = 0,
    ) -> tuple[ModelSpec, GenerationParams]:
        """Check every rule of ``model``; raise InvalidRequestError naming the field."""
        spec = self.get(model)
        if spec.actions and not action:  # a plain create is the model's first action
            action = next((n for n, a in spec.actions.items() if not a.after), "")
        if spec.actions or action:
            spec.action(action)
        needs_prompt = spec.prompt_required if prompt_required is None else prompt_required
        _check_prompt(spec, prompt, needs_prompt)
        _check_banned(prompt, self.banned | {w.lower() for w in spec.banned_words})
        imgs = tuple(images or ())
        _check_images(spec, imgs, trusted)
        role_list = _check_roles(spec, imgs, roles)
        checked = check_options(spec.id, spec.params, options)
        if (
            aspect_ratio is not None
            and aspect_ratio not in spec.aspect_ratios
            and free_size(spec, aspect_ratio) is None
        ):
            allowed = list(spec.aspect_ratios)
            if spec.free_sizes:
                low, high, step = spec.free_sizes
                allowed.append(f"WxH with each side {low}..{high}, a multiple of {step}")
            raise InvalidRequestError(
                "aspect_ratio", f"{aspect_ratio!r} is not supported by {spec.id}", allowed
            )
        duration = _check_duration(spec, duration_seconds)
        samples = 1 if sample_count is None else sample_count
        if not 1 <= samples <= spec.max_samples:
            raise InvalidRequestError(
                "sample_count",
                f"{samples} is out of range for {spec.id}",
                [f"1..{spec.max_samples}"],
            )
        params = GenerationParams(
            aspect_ratio=aspect_ratio or spec.default_aspect_ratio,
            images=imgs,
            duration_seconds=duration,
            sample_count=samples,
            ar_given=aspect_ratio is not None,
            options=checked,
            roles=role_list,
            action=action,
            asked_as=model if model != spec.id else "",
        )
        return spec, params


_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")


def free_size(spec: ModelSpec, text: str) -> tuple[int, int] | None:
    """``WxH`` as a size the model takes freely, or None."""
    match = _SIZE.match(text) if spec.free_sizes else None
    if match is None:
        return None
    low, high, step = spec.free_sizes
    width, height = int(match.group(1)), int(match.group(2))
    if all(low <= v <= high and v % step == 0 for v in (width, height)):
        return width, height
    return None


def _check_entry(name: str, spec: ModelSpec) -> None:
    if spec.price_unit not in ("image", "second"):
        raise ValueError(f"catalogue entry {name}: price_unit must be image or second")
    to_micros(spec.price, f"catalogue entry {name} price")
    missing = [ar for ar in spec.aspect_ratios if ar not in spec.sizes]
    if missing or spec.default_aspect_ratio not in spec.aspect_ratios:
        raise ValueError(f"catalogue entry {name}: sizes or default missing for {missing}")
    if spec.kind is Kind.VIDEO and (not spec.durations or spec.default_duration is None):
        raise ValueError(f"catalogue entry {name}: a video model needs durations")
    if spec.kind is Kind.VIDEO and spec.fps is None:
        raise ValueError(f"catalogue entry {name}: a video model needs fps")
    if spec.image_input is ImageInput.NONE and spec.max_images and not spec.image_roles:
        raise ValueError(f"catalogue entry {name}: max_images without image_input")
    unknown_roles = [r for r in spec.image_roles if r not in IMAGE_ROLES]
    if unknown_roles:
        raise ValueError(f"catalogue entry {name}: unknown image roles {unknown_roles}")
    if spec.free_sizes and len(spec.free_sizes) != 3:
        raise ValueError(f"catalogue entry {name}: free_sizes is [min, max, multiple]")
    check_entry(name, spec.params, spec.actions)


def _check_prompt(spec: ModelSpec, prompt: str, required: bool) -> None:
    if required and not prompt.strip():
        what = "is required" if not prompt else "must be a non-empty string"
        raise InvalidRequestError("prompt", f"{what} for {spec.id}")
    if len(prompt) > spec.max_prompt_chars:
        raise InvalidRequestError(
            "prompt", f"is {len(prompt)} characters; at most {spec.max_prompt_chars}"
        )


_WORD = re.compile(r"[^\W_]+")


def _check_banned(prompt: str, banned: frozenset[str] | set[str]) -> None:
    if not banned:
        return
    for word in _WORD.findall(prompt.lower()):
        if word in banned:
            raise BannedPromptError(word)


def _check_roles(
    spec: ModelSpec, images: tuple[str, ...], roles: list[str] | None
) -> tuple[str, ...]:
    """Each image's role, if the caller names them: one per image, each one the model takes."""
    needs_all = len(spec.image_roles) > 1 and spec.min_images == len(spec.image_roles)
    if not roles and needs_all and len(images) == len(spec.image_roles):
        return tuple(spec.image_roles)  # a model that takes each role once: in its order
    if not roles:
        return ()
    if len(roles) != len(images):
        raise InvalidRequestError("images", f"{len(images)} images but {len(roles)} roles")
    for i, role in enumerate(roles):
        if role not in spec.image_roles:
            raise InvalidRequestError(
                f"images[{i}]", f"{spec.id} takes no {role!r} image", spec.image_roles or ["none"]
            )
    return tuple(roles)


def _check_images(spec: ModelSpec, images: tuple[str, ...], trusted: int = 0) -> None:
    """``trusted``: how many leading images are our own stored files (``blob:`` refs that
    only the service makes, for a follow-up's parent); a caller can never send one."""
    if images and spec.image_input is ImageInput.NONE and not spec.image_roles:
        raise InvalidRequestError("images", f"{spec.id} takes no image input")
    if len(images) < spec.min_images:
        raise InvalidRequestError(
            "images", f"{spec.id} needs at least {spec.min_images} image(s)", [spec.image_input]
        )
    if len(images) > spec.max_images:
        raise InvalidRequestError(
            "images", f"{len(images)} given; {spec.id} takes at most {spec.max_images}"
        )
    for i, ref in enumerate(images):
        if i < trusted and ref.startswith(BLOB_PREFIX):
            continue
        check_image_ref(f"images[{i}]", ref)


def check_image_ref(param: str, ref: str) -> None:
    """An image is an http(s) URL or a base64 data URL of an image type."""
    if ref.startswith("data:"):
        head, _, payload = ref.partition(",")
        if not head.startswith("data:image/") or not head.endswith(";base64") or not payload:
            raise InvalidRequestError(param, "a data URL must be data:image/<type>;base64,<data>")
        if len(payload) * 3 // 4 > MAX_DATA_URL_BYTES:
            raise InvalidRequestError(param, f"image is over {MAX_DATA_URL_BYTES} bytes")
        try:
            base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError(param, "data URL is not valid base64") from None
        return
    if len(ref) > MAX_IMAGE_URL_CHARS:
        raise InvalidRequestError(param, f"URL is over {MAX_IMAGE_URL_CHARS} characters")
    parts = urlsplit(ref)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(param, "must be an http(s) URL or a data:image/...;base64 URL")


def _check_duration(spec: ModelSpec, duration: int | None) -> int | None:
    if spec.kind is not Kind.VIDEO:
        if duration is not None:
            raise InvalidRequestError(
                "duration_seconds", f"{spec.id} makes {PLURAL[spec.kind]}, not video"
            )
        return None
    if duration is None:
        return spec.default_duration
    if duration not in spec.durations:
        raise InvalidRequestError(
            "duration_seconds",
            f"{duration} is not supported by {spec.id}",
            [str(d) for d in spec.durations],
        )
    return duration


@cache
def default_catalogue() -> Catalogue:
    """The catalogue shipped in the package: ``core/catalogue.toml`` and each family's own
    file in ``mediagate/models/`` (a family adds its rows there, touching nothing else)."""
    text = resources.files("mediagate.core").joinpath("catalogue.toml").read_bytes()
    models = dict(msgspec.toml.decode(text, type=_CatalogueFile).models)
    folder = resources.files("mediagate.models")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            found = msgspec.toml.decode(entry.read_bytes(), type=_CatalogueFile).models
            twice = sorted(set(found) & set(models))
            if twice:
                raise ValueError(f"{entry.name}: models already in the catalogue: {twice}")
            models.update(found)
    return Catalogue(models)
