"""Stage breakdown and peak memory for long recordings.

    python bench/stages.py --minutes 10 [--minutes 60] [--no-llm]

Builds a recording of the asked length from the fixture meeting (fixtures/long_meeting, looped),
then runs each length in a fresh process: decode, transcribe, diarize, extract, with wall time per
stage, real-time factor and the process's peak resident memory (ru_maxrss).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent


def make_recording(minutes: float, folder: Path) -> Path:
    from takeaway.speech.audio import SAMPLE_RATE, decode

    base = decode(ROOT / "fixtures" / "long_meeting" / "long_meeting.ogg").mono
    need = int(minutes * 60 * SAMPLE_RATE)
    audio = np.tile(base, need // len(base) + 1)[:need]
    path = folder / f"meeting_{minutes:g}min.ogg"
    sf.write(path, audio, SAMPLE_RATE, format="OGG", subtype="OPUS")
    return path


def run_one(path: str, llm: bool) -> dict:
    from datetime import datetime

    from takeaway import engines, pipeline
    from takeaway.settings import Settings
    from takeaway.speech.audio import decode

    settings = Settings(llm_cache=False)
    rec = pipeline.make_recording(path, start=datetime.fromisoformat("2026-11-02T15:00:00+00:00"),
                                  participants=["Nina", "Paul", "Eva", "Leo"])
    timings: dict = {}
    t0 = time.perf_counter()
    audio = decode(rec.path)
    timings["decode"] = {"wall_s": round(time.perf_counter() - t0, 2)}
    transcript = pipeline.transcribe(rec, audio, engines.transcriber_for(settings), engines.diarizer_for(settings),
                                     timings=timings)
    audio_s = audio.duration_s
    del audio  # as in the flow, where the speech task's audio is freed when it returns
    speech_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if llm:
        t0 = time.perf_counter()
        extraction = pipeline.extract(transcript, engines.extractor_for(settings))
        timings["extract"] = {"wall_s": round(time.perf_counter() - t0, 2), "chunks": extraction.usage.calls,
                              "items": len(extraction.action_items)}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = sum(v["wall_s"] for v in timings.values())
    return {"audio_s": round(audio_s, 1), "stages": timings, "total_s": round(total, 1),
            "rtf": round(total / audio_s, 3), "peak_rss_mb": round(peak_mb), "speech_peak_rss_mb": round(speech_peak_mb)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, action="append")
    parser.add_argument("--no-llm", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, not args.no_llm)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes or [10.0]:
            path = make_recording(minutes, Path(tmp))
            cmd = [sys.executable, __file__, "--child", str(path)] + (["--no-llm"] if args.no_llm else [])
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            stages = "  ".join(f"{k} {v['wall_s']:.1f}s" for k, v in r["stages"].items())
            print(f"{minutes:g} min: audio {r['audio_s']} s  total {r['total_s']} s  RTF {r['rtf']}  "
                  f"peak RSS {r['peak_rss_mb']} MB (speech stages {r['speech_peak_rss_mb']} MB)  | {stages}", flush=True)


if __name__ == "__main__":
    main()
