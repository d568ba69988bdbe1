"""Text and audio models (chat, completions, embeddings, speech, transcription): their
catalogue rows, what a relayed request used, why it ended, and what that costs, exactly. No
HTTP and no SQL here.

A relayed request is not a task: it runs while the caller waits (streamed or not), and is
charged once, on what the upstream reports it used (or, when it reports nothing, on what
mediagate counted itself)."""

from __future__ import annotations

import enum
import fnmatch
import math
from fractions import Fraction
from importlib import resources

import msgspec

from mediagate.core.errors import InvalidRequestError
from mediagate.core.money import to_micros

PER = 1_000_000  # prices are per million tokens


class TextKind(enum.StrEnum):
    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"
    SPEECH = "speech"  # text to speech: priced per million characters
    TRANSCRIPTION = "transcription"  # speech to text: priced per minute of audio
    REALTIME = "realtime"  # a WebSocket session: each response priced on its usage


class TextModel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One text model; ``id`` is filled from the table key (a name ending in ``*`` is a
    pattern of names)."""

    vendor: str
    kind: TextKind
    context: int
    input: str
    output: str = "0"
    cached_input: str = ""
    max_output: int = 0
    dimensions: int = 0
    encoding: str = "o200k_base"
    vision: bool = False
    reasoning: bool = False
    per_million_chars: str = "0"  # speech
    per_minute: str = "0"  # transcription, measured from the file
    audio_input: str = "0"  # realtime: per million audio tokens heard
    audio_output: str = "0"  # realtime: per million audio tokens spoken
    instructions: bool = False  # speech: takes ``instructions``
    streams: bool = False  # transcription: can stream its text
    id: str = ""

    @property
    def is_pattern(self) -> bool:
        return self.id.endswith("*")


class Usage(msgspec.Struct, frozen=True):
    """Tokens one request used. ``counted``: mediagate counted them (no usage from the
    upstream), rather than the upstream reporting them."""

    prompt: int = 0
    completion: int = 0
    cached: int = 0
    counted: bool = False
    characters: int = 0  # speech: the text's characters
    audio_ms: int = 0  # transcription: the audio's length, measured by mediagate
    audio_prompt: int = 0  # realtime: of ``prompt``, the audio tokens
    audio_completion: int = 0  # realtime: of ``completion``, the audio tokens

    @property
    def total(self) -> int:
        return self.prompt + self.completion


class AudioFile(msgspec.Struct, frozen=True):
    """An uploaded audio file, as a transcription sends it upstream."""

    name: str
    content_type: str
    data: bytes


class Ending(enum.StrEnum):
    """Why a relayed request ended, as recorded on its log row."""

    COMPLETED = "completed"  # the upstream's usage arrived: charged on it
    COUNTED = "counted"  # it ended without usage: charged on mediagate's own count
    CLIENT_GONE = "client_disconnected"  # charged the prompt and the output produced so far
    UPSTREAM_FAILED = "upstream_failed"  # mid-stream: charged what was delivered
    NO_OUTPUT = "no_output"  # nothing was produced: charged nothing
    REFUSED = "refused"  # never sent: a 4xx before the upstream, or no upstream answered


class Prices(msgspec.Struct, frozen=True):
    """Micro-units per million tokens (and, for audio, per million characters and per
    minute)."""

    input: int
    output: int
    cached: int
    chars: int = 0
    minute: int = 0
    audio_in: int = 0
    audio_out: int = 0

    def cost(self, usage: Usage) -> int:
        """The exact price of ``usage``, rounded up to a whole micro-unit (never to free)."""
        heard = min(usage.audio_prompt, usage.prompt)
        cached = min(usage.cached, usage.prompt - heard)
        spoken = min(usage.audio_completion, usage.completion)
        total = (
            Fraction(self.input * (usage.prompt - cached - heard))
            + Fraction(self.cached * cached)
            + Fraction(self.output * (usage.completion - spoken))
            + Fraction(self.audio_in * heard)
            + Fraction(self.audio_out * spoken)
            + Fraction(self.chars * usage.characters)
        ) / PER + Fraction(self.minute * usage.audio_ms, 60_000)
        return math.ceil(total)


class _File(msgspec.Struct, forbid_unknown_fields=True):
    text: dict[str, TextModel] = {}


class TextCatalogue:
    """Every text model this build knows, by name or pattern."""

    def __init__(
        self,
        models: dict[str, TextModel],
        prices: dict[str, str] | None = None,
        aliases: dict[str, str] | None = None,
    ):
        self.models = {name: msgspec.structs.replace(m, id=name) for name, m in models.items()}
        # Other names for text models (a client that asks for claude-sonnet-4-5 served by
        # any model): the deployment's MEDIAGATE_MODEL_ALIASES whose target is a text model.
        self.aliases = {a: t for a, t in (aliases or {}).items() if t in self.models}
        self._patterns = [m for m in self.models.values() if m.is_pattern]
        self._prices: dict[str, Prices] = {}
        overrides = prices or {}
        for name, model in self.models.items():
            given = {
                part: overrides.get(f"{name}:{part}", default)
                for part, default in (
                    ("input", model.input),
                    ("output", model.output),
                    ("cached", model.cached_input or model.input),
                )
            }
            money = {p: to_micros(given[p], f"price of {name} {p}") for p in given}
            self._prices[name] = Prices(
                money["input"], money["output"], money["cached"],
                chars=to_micros(overrides.get(f"{name}:chars", model.per_million_chars), name),
                minute=to_micros(overrides.get(f"{name}:minute", model.per_minute), name),
                audio_in=to_micros(overrides.get(f"{name}:audio_input", model.audio_input), name),
                audio_out=to_micros(
                    overrides.get(f"{name}:audio_output", model.audio_output), name
                ),
            )  # fmt: skip

    def find(self, name: str) -> TextModel | None:
        """The model by name (or alias), or the pattern it matches."""
        found = self.models.get(self.aliases.get(name, name))
        if found is not None and not found.is_pattern:
            return found
        for pattern in self._patterns:
            if fnmatch.fnmatchcase(name, pattern.id):
                return pattern
        return None

    def get(self, name: str, kind: TextKind, param: str = "model") -> TextModel:
        """The model of ``kind`` by name; InvalidRequestError naming ``param`` otherwise."""
        found = self.find(name)
        if found is None or found.kind is not kind:
            allowed = sorted(n for n, m in self.models.items() if m.kind is kind)
            what = "is not a model here" if found is None else f"is not a {kind.value} model"
            raise InvalidRequestError(param, f"{name!r} {what}", allowed)
        return found

    def prices(self, model: TextModel) -> Prices:
        return self._prices[model.id]


def default_text_catalogue(
    prices: dict[str, str] | None = None, aliases: dict[str, str] | None = None
) -> TextCatalogue:
    raw = resources.files("mediagate.core").joinpath("text_models.toml").read_bytes()
    return TextCatalogue(msgspec.toml.decode(raw, type=_File).text, prices, aliases)


class RequestRecord(msgspec.Struct, frozen=True):
    """One relayed request as the log keeps it (and, when ``cost_micros`` is not 0, as the
    ledger charges it: one row, in the same transaction as the log row)."""

    id: str
    key_id: str
    account_id: str
    mode: str
    route: str  # chat.completions, completions, embeddings, responses
    model: str
    provider: str
    upstream_model: str
    stream: bool
    status: int
    ending: Ending
    usage: Usage
    cost_micros: int
    ttft_ms: float | None
    total_ms: float
    overhead_ms: float
    created_at: float
    error: str = ""
