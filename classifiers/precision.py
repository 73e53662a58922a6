"""Choose the encoder's arithmetic (fp32, bf16 or int8) for the CPU it runs on, and load the
encoder in it; never scores posts.

``auto`` reads the CPU's flags, keeps the paths that CPU can run natively (bf16 only with bf16
units: AMX or AVX-512 BF16; int8 with VNNI/AVX2 and onnxruntime), times each on a fixed sample
of windows (a few seconds) and keeps the fastest. int8 is taken only when (1) its embeddings'
mean cosine to fp32's on that sample is at least ``INT8_MIN_COSINE`` and (2) the shipped heads
record, in ``heads.json`` ``int8_macro_f1_drop``, that int8 embeddings cost at most
``INT8_MAX_F1_DROP`` macro-F1 under the classifier protocol: a cosine of 0.996 still moved a
borderline post's P(critical) from 0.50 to 0.38, so closeness alone is not enough.
The choice is cached as JSON beside the converted model
(``<cache>/derived/<model>-<fingerprint>/precision.json``), keyed by CPU model, relevant flags,
threads, library versions and that heads record, so it is measured once per machine and setup.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal, cast, get_args

import numpy as np

from classifiers.encoder import BATCHED_PRECISIONS, Encoder
from classifiers.heads import ARTIFACTS_DIR, HEADS_META
from classifiers.model_files import default_model_dir, model_fingerprint
from classifiers.onnx_int8 import ensure_int8_model, onnxruntime_version
from classifiers.text import sentence_windows
from classifiers.transformers_model import ensure_bf16_copy
from config.errors import ConfigError
from config.settings import Settings

logger = logging.getLogger(__name__)

PathName = Literal["fp32", "bf16", "int8"]
PATHS: tuple[PathName, ...] = get_args(PathName)
CHOICE_FILENAME = "precision.json"
INT8_MIN_COSINE = 0.98  # mean over sample_windows(), int8 against fp32
INT8_MAX_F1_DROP = 0.01  # macro-F1 the shipped heads may lose on int8 embeddings
BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16", "bf16"})  # "bf16": aarch64's feature name
INT8_FLAGS = frozenset({"amx_int8", "avx512_vnni", "avx_vnni", "avx2", "asimddp", "i8mm"})
KEY_FLAGS = BF16_FLAGS | INT8_FLAGS | {"avx512f", "amx_tile"}
# Set, these make the same CPU run other kernels (ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI: no AMX
# or bf16 units for oneDNN), so a choice measured without them does not hold with them.
ISA_CAP_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")

SAMPLE_TEXTS = (  # written for this module; cut into windows the way the classifier cuts posts
    "Минобороны снова отчиталось об успешном отражении атак, но бойцы с передовой пишут другое. "
    "Позиции под селом оставлены ещё позавчера, соседние подразделения отошли без приказа, а "
    "связи со штабом бригады не было почти сутки. Кто будет отвечать за это?",
    "Снарядов не хватает третью неделю, дроны и рации покупаем сами на деньги подписчиков. "
    "Обещанные поставки так и не пришли, а в сводках всё хорошо. Спасибо всем, кто помогает: "
    "без вас этот участок фронта держать было бы нечем.",
    "Наши штурмовые группы продвинулись ещё на два километра и закрепились на окраине. "
    "Противник несёт потери, пытается контратаковать бронетехникой, но безуспешно. Работает "
    "артиллерия, работают расчёты FPV. Подробности позже.",
    "Сводка за сутки: на направлении продолжаются позиционные бои, противник перебрасывает "
    "резервы. Отмечена активность вражеской авиации и беспилотников. Гражданских просим не "
    "публиковать места прилётов и передвижение техники.",
    "Опять кадровые решения принимаются людьми, которые фронт видели только на картах. "
    "Генералы, сдавшие город, получают повышение, а командиров, которые говорили правду о "
    "потерях, отправляют в отставку. Так войну не выигрывают.",
    "Наші підрозділи залишили позиції під містом після тижня боїв. Командування мовчить, "
    "а бійці пишуть, що підкріплення так і не прийшло. Втрати значні, евакуація поранених "
    "ускладнена через постійні обстріли.",
    "The ministry says the front is stable, but several bloggers report that units were "
    "pulled back overnight without orders and that ammunition has not arrived for weeks. "
    "Nobody in the chain of command has answered for the losses.",
    "Тревожно: мобилизованных отправляют на передовую после двух недель подготовки, без "
    "нормальной связи и медицины. Если ничего не изменится, к зиме мы потеряем и людей, и "
    "территорию. Пишу это не ради паники, а чтобы услышали.",
    "Вчера в Москве прошло совещание по оборонному заказу. Заводы обещают нарастить выпуск "
    "снарядов и беспилотников к концу года. Эксперты сомневаются, что сроки реальны, учитывая "
    "нехватку станков и специалистов.",
    "Пригожин снова обвинил руководство министерства в том, что его бойцам не дают боеприпасы. "
    "Ответа из министерства не последовало. На этом фоне в каналах обсуждают, кто на самом "
    "деле командует группировкой и почему приказы противоречат друг другу.",
    "Рецепт простой: не врать о потерях, не сдавать позиции ради отчёта к празднику, слушать "
    "тех, кто в окопе. Пока штаб живёт в другой реальности, никакие новые бригады не помогут. "
    "Отставка министра ничего не решит, если система прежняя.",
    "Погода портится, дороги развезло, техника вязнет. Логистика на этом участке держится на "
    "честном слове и тракторах местных жителей. Спасибо им, без них подвоз воды и еды к "
    "позициям встал бы окончательно.",
)


@dataclass(frozen=True)
class CpuInfo:
    """What the CPU says about itself: model name, flags, and torch's vector capability."""

    model_name: str
    flags: frozenset[str]
    torch_capability: str


@dataclass
class PrecisionChoice:
    """One measured choice: the path, why, and every candidate's windows/s."""

    key: dict[str, object]
    precision: PathName
    reason: str
    rates: dict[str, float] = field(default_factory=dict)  # windows/s per path measured
    int8_cosine: float | None = None  # mean over the sample windows, against fp32
    measured: bool = True  # False: set by RIFTWATCH_PRECISION, nothing timed

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PrecisionChoice:
        data = json.loads(text)
        if data.get("precision") not in PATHS:
            raise ValueError(f"unknown precision {data.get('precision')!r}")
        return cls(**data)


@dataclass(frozen=True)
class ResolvedPrecision:
    """What an Encoder needs: the model, the path, the folder its derived copies live in, and
    (once ``prepare_precision`` has made it) the path's own copy of the weights."""

    model_dir: Path
    precision: PathName
    folder: Path
    choice: PrecisionChoice
    weights: Path | None = None  # None: fp32 reads the model itself


# --- what the CPU can do ---------------------------------------------------------------------

def read_cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """Model name and flags of the first processor in a /proc/cpuinfo text (x86 or aarch64)."""
    name, flags = "", ""
    for line in text.splitlines():
        label, _, value = line.partition(":")
        label = label.strip().lower()
        if label in ("model name", "cpu model") and not name:
            name = value.strip()
        elif label in ("flags", "features") and not flags:
            flags = value
    return name, frozenset(flags.split())


def detect_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    """This machine's CPU; flags are empty where /proc/cpuinfo is absent (only fp32 then)."""
    import torch

    text = cpuinfo.read_text(encoding="utf-8", errors="replace") if cpuinfo.is_file() else ""
    name, flags = read_cpuinfo(text)
    capability = str(torch.backends.cpu.get_cpu_capability())
    return CpuInfo(name or platform.processor() or platform.machine(), flags, capability)


def candidate_paths(flags: Iterable[str], int8_runtime: bool) -> list[PathName]:
    """The paths worth timing on a CPU with these flags: fp32 always; bf16 only with bf16
    units (emulated bf16 is about 3.5x slower than fp32); int8 with VNNI or AVX2 integer dot
    products and onnxruntime installed."""
    present = frozenset(flags)
    paths: list[PathName] = ["fp32"]
    if present & BF16_FLAGS:
        paths.append("bf16")
    if int8_runtime and present & INT8_FLAGS:
        paths.append("int8")
    return paths


def heads_int8_f1_drop(heads_meta: Path = ARTIFACTS_DIR / HEADS_META) -> float | None:
    """Macro-F1 the shipped heads lose on int8 embeddings, as their training recorded it."""
    try:
        drop = json.loads(heads_meta.read_text(encoding="utf-8")).get("int8_macro_f1_drop")
    except (OSError, ValueError):
        return None
    return float(drop) if isinstance(drop, int | float) else None


def choice_key(cpu: CpuInfo, threads: int) -> dict[str, object]:
    """What a cached choice depends on: CPU model, relevant flags, threads, library versions,
    the variables that cap the instructions oneDNN and ATen may use, and the heads' int8
    record."""
    import torch
    import transformers

    return {
        "cpu": cpu.model_name,
        "flags": sorted(cpu.flags & KEY_FLAGS),
        "torch_capability": cpu.torch_capability,
        "threads": threads,
        "torch": str(torch.__version__),
        "transformers": str(transformers.__version__),
        "onnxruntime": onnxruntime_version(),
        "isa_caps": {name: os.environ[name] for name in ISA_CAP_VARIABLES if name in os.environ},
        "heads_int8_macro_f1_drop": heads_int8_f1_drop(),
        "batched_precisions": sorted(BATCHED_PRECISIONS),
    }


# --- choosing --------------------------------------------------------------------------------

def choose_path(
    rates: Mapping[str, float], int8_cosine: float | None, int8_f1_drop: float | None
) -> tuple[PathName, str]:
    """The fastest measured path; int8 only when its mean cosine to fp32 is high enough and
    the heads' macro-F1 on int8 embeddings was measured within ``INT8_MAX_F1_DROP``."""
    eligible = {path: rate for path, rate in rates.items() if path in PATHS}
    notes = []
    if "int8" in eligible and (int8_cosine is None or int8_cosine < INT8_MIN_COSINE):
        del eligible["int8"]
        notes.append(f"int8 refused: cosine to fp32 {int8_cosine} < {INT8_MIN_COSINE}")
    elif "int8" in eligible and (int8_f1_drop is None or int8_f1_drop > INT8_MAX_F1_DROP):
        del eligible["int8"]
        notes.append("int8 not used: the shipped heads' macro-F1 on int8 embeddings is "
                     + ("not yet measured" if int8_f1_drop is None else
                        f"{int8_f1_drop:.3f} lower") + " (RIFTWATCH_PRECISION=int8 forces it)")
    best = cast(PathName, max(eligible, key=lambda path: eligible[path], default="fp32"))
    measured = ", ".join(f"{path} {rate:.1f}" for path, rate in rates.items())
    reason = f"the fastest path allowed (windows/s: {measured})"
    return best, "; ".join([reason, *notes])


def derived_dir(cache_dir: Path, model_dir: Path) -> Path:
    """Where files made from a model live: beside the converted model, named by its weights."""
    name = f"{model_dir.name}-{model_fingerprint(model_dir)}"
    return Path(cache_dir).expanduser() / "derived" / name


def load_choice(path: Path, key: Mapping[str, object]) -> PrecisionChoice | None:
    """The cached choice at ``path`` when it was made under ``key``; None otherwise."""
    try:
        choice = PrecisionChoice.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None
    return choice if choice.key == dict(key) else None


def save_choice(path: Path, choice: PrecisionChoice) -> None:
    """Write the choice atomically (two processes may measure at once; the last one wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".precision-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(choice.to_json())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


# --- measuring -------------------------------------------------------------------------------

def sample_windows(count: int = 16) -> list[str]:
    """``count`` windows of the sample (one batch), packed as a long post's windows are."""
    return sentence_windows(" ".join(SAMPLE_TEXTS * 2), max_windows=count)


def seconds_to_embed(encoder: Encoder, windows: list[str]) -> float:
    started = time.perf_counter()
    encoder.embed(windows)
    return time.perf_counter() - started


def measure_paths(
    model_dir: Path, folder: Path, paths: list[PathName], threads: int, batch_size: int,
    rounds: int = 3,
) -> tuple[dict[str, float], float | None]:
    """Windows/s of each path on the sample, and int8's mean cosine to fp32.

    Every path is loaded first, then timed in interleaved rounds and its fastest round kept:
    other processes on the machine slow some rounds several-fold, and interleaving spreads
    that over the paths instead of landing on one.
    """
    windows = sample_windows()
    encoders = {path: open_encoder(model_dir, folder, path, threads=threads,
                                   batch_size=batch_size) for path in paths}
    embedded = {path: encoder.embed(windows) for path, encoder in encoders.items()}  # warm-up
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(rounds):
        for path, encoder in encoders.items():
            best[path] = min(best[path], seconds_to_embed(encoder, windows))
    rates: dict[str, float] = {path: round(len(windows) / best[path], 1) for path in paths}
    cosine = None
    if "int8" in embedded:
        cosine = round(float(np.mean(np.sum(embedded["int8"] * embedded["fp32"], axis=1))), 4)
    return rates, cosine


def measure_choice(
    model_dir: Path, folder: Path, cpu: CpuInfo, threads: int, batch_size: int
) -> PrecisionChoice:
    """Time this CPU's candidate paths and choose one (a few seconds; int8 built if needed)."""
    int8_runtime = onnxruntime_version() is not None
    paths = candidate_paths(cpu.flags, int8_runtime)
    rates, cosine = measure_paths(model_dir, folder, paths, threads, batch_size)
    precision, reason = choose_path(rates, cosine, heads_int8_f1_drop())
    skipped = [f"{path} not timed ({why_not_candidate(path, int8_runtime)})"
               for path in PATHS if path not in paths]
    reason = "; ".join([reason, *skipped])
    return PrecisionChoice(choice_key(cpu, threads), precision, reason, rates, cosine)


def why_not_candidate(path: PathName, int8_runtime: bool) -> str:
    """Why ``candidate_paths`` left ``path`` out, in a few words."""
    if path == "bf16":
        return "no bf16 units: no amx_bf16 or avx512_bf16 flag"
    if path == "int8" and not int8_runtime:
        return "onnxruntime not installed"
    return "no int8 dot-product flag: avx512_vnni, avx_vnni or avx2"


# --- resolving and loading -------------------------------------------------------------------

def resolve_precision(
    requested: str, model_dir: Path, cache_dir: Path, threads: int, batch_size: int = 16,
    remeasure: bool = False,
) -> ResolvedPrecision:
    """The path to run: ``requested`` itself, or for ``auto`` the cached (else measured) choice."""
    folder = derived_dir(cache_dir, model_dir)
    cpu = detect_cpu()
    if requested != "auto":
        if requested not in PATHS:
            raise ConfigError("environment", "RIFTWATCH_PRECISION", f"unknown value {requested!r}",
                              "set auto, fp32, bf16 or int8")
        path = cast(PathName, requested)
        if path == "bf16" and not cpu.flags & BF16_FLAGS:
            logger.warning("bf16 requested on a CPU without bf16 units: emulated and slow")
        choice = PrecisionChoice(choice_key(cpu, threads), path, "set by RIFTWATCH_PRECISION",
                                 measured=False)
    else:
        key = choice_key(cpu, threads)
        cached = None if remeasure else load_choice(folder / CHOICE_FILENAME, key)
        choice = cached or measure_in_child(model_dir, folder, key, threads, batch_size)
    return ResolvedPrecision(model_dir, choice.precision, folder, choice)

def measure_in_child(
    model_dir: Path, folder: Path, key: Mapping[str, object], threads: int, batch_size: int
) -> PrecisionChoice:
    """Measure and cache the choice in a fresh Python process, then read it back.

    The three encoders timed side by side and the int8 build peak near 2.3 GB; in a child that
    memory is gone when it exits, so a service choosing on first use keeps its own peak RSS to
    the one encoder it runs. If the child fails, fp32 (fast enough everywhere, never emulated)
    is used for this process and nothing is cached.
    """
    command = [sys.executable, "-m", "classifiers.precision", str(model_dir), str(folder),
               str(threads), str(batch_size)]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    choice = load_choice(folder / CHOICE_FILENAME, key) if done.returncode == 0 else None
    if choice is None:
        problem = (done.stderr.strip().splitlines() or ["no choice written"])[-1]
        logger.warning("timing the precisions failed (%s); using fp32", problem)
        return PrecisionChoice(dict(key), "fp32", f"timing failed: {problem}", measured=False)
    logger.info("precision %s chosen: %s", choice.precision, choice.reason)
    return choice


def measure_and_save(model_dir: Path, folder: Path, threads: int, batch_size: int) -> None:
    """The child's work: time this CPU's paths and write the choice beside the model."""
    import torch

    torch.set_num_threads(threads)
    choice = measure_choice(model_dir, folder, detect_cpu(), threads, batch_size)
    save_choice(folder / CHOICE_FILENAME, choice)


def derived_weights(model_dir: Path, folder: Path, path: PathName) -> Path | None:
    """The path's own copy of the weights in ``folder``, made on first use: the int8 ONNX file
    (a missing onnxruntime is a config error), the bf16 folder; fp32 reads the model itself."""
    if path == "bf16":
        return ensure_bf16_copy(model_dir, folder)
    if path == "fp32":
        return None
    if onnxruntime_version() is None:
        raise ConfigError("environment", "RIFTWATCH_PRECISION", "int8 needs onnxruntime and onnx",
                          "pip install onnxruntime onnx, or set RIFTWATCH_PRECISION=auto")
    return ensure_int8_model(model_dir, folder)


def open_encoder(
    model_dir: Path, folder: Path, path: PathName, *, threads: int, batch_size: int = 16,
    max_tokens: int = 256,
) -> Encoder:
    """An Encoder over ``model_dir`` in ``path``, its derived weights kept in ``folder``."""
    return Encoder(model_dir, threads=threads, max_tokens=max_tokens, batch_size=batch_size,
                   precision=path, weights=derived_weights(model_dir, folder, path))


def load_encoder(settings: Settings, precision: str | None = None) -> Encoder:
    """The encoder these settings describe, in ``precision`` (auto, fp32, bf16, int8) when
    given, else in ``settings.precision``: the one function to embed with a given precision.

    One straight path: the model files found or built, the arithmetic chosen and its copy of
    the weights made (``prepare_precision``), then the encoder opened on them."""
    resolved = prepare_precision(settings.model_copy(update={"precision": precision})
                                 if precision else settings)
    return Encoder(resolved.model_dir, threads=settings.threads,
                   max_tokens=settings.max_tokens, batch_size=settings.batch_size,
                   precision=resolved.precision, weights=resolved.weights)


def describe_choice(choice: PrecisionChoice) -> str:
    """A few lines for ``riftwatch prepare-model``: the CPU, the path chosen, and why."""
    key = choice.key
    flags = " ".join(cast(list[str], key.get("flags", []))) or "none"
    lines = [
        f"CPU: {key.get('cpu')} (torch capability {key.get('torch_capability')}, "
        f"flags that matter: {flags}), {key.get('threads')} threads",
        f"precision: {choice.precision} — {choice.reason}",
    ]
    if choice.int8_cosine is not None:
        lines.append(f"int8 embeddings against fp32: mean cosine {choice.int8_cosine:.4f} "
                     f"(needs >= {INT8_MIN_COSINE})")
    return "\n".join(lines)


def prepare_precision(settings: Settings, remeasure: bool = False) -> ResolvedPrecision:
    """``riftwatch prepare-model``'s work: the model converted, its path chosen (timed again
    when ``remeasure``), and that path's copy of the weights (int8 or bf16) made."""
    model_dir = default_model_dir(settings.cache_dir, settings.model, settings.encoder_depth)
    resolved = resolve_precision(settings.precision, model_dir, settings.cache_dir,
                                 settings.threads, settings.batch_size, remeasure=remeasure)
    return replace(resolved, weights=derived_weights(model_dir, resolved.folder,
                                                     resolved.precision))


if __name__ == "__main__":  # the child ``measure_in_child`` starts
    measure_and_save(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
