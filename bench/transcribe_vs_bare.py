"""Our transcription stage vs bare faster-whisper on the same file, model and settings, in one run.

    python bench/transcribe_vs_bare.py [AUDIO] [--repeats 2]

Both sides decode the file themselves (ours with takeaway.speech.audio, bare with faster-whisper's
own decoder) and use beam 5, VAD, word timestamps and no conditioning on previous text. The runs
alternate so that warm-up and machine load fall on both; the ratio is ours / bare (1.00 = no cost).
"""

import argparse
import statistics
import time

from faster_whisper import WhisperModel

from takeaway.speech.audio import decode
from takeaway.speech.transcribe import Transcriber, TranscribeOptions, embedded_model_path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("audio", nargs="?", default="fixtures/team_meeting/team_meeting.flac")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    ours = Transcriber(TranscribeOptions())
    bare = WhisperModel(str(embedded_model_path()), device="cpu", compute_type="int8")
    times = {"ours": [], "bare": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        segs, _ = bare.transcribe(args.audio, beam_size=5, vad_filter=True, word_timestamps=True,
                                  condition_on_previous_text=False, language="en")
        bare_text = " ".join(s.text.strip() for s in segs)
        times["bare"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        segments, _ = ours(decode(args.audio).mono)
        times["ours"].append(time.perf_counter() - t0)
    ours_text = " ".join(s.text for s in segments)
    b, o = statistics.median(times["bare"]), statistics.median(times["ours"])
    print(f"file: {args.audio}  repeats: {args.repeats}")
    print(f"bare faster-whisper  median {b:6.2f} s  runs {[round(t, 2) for t in times['bare']]}")
    print(f"takeaway transcribe  median {o:6.2f} s  runs {[round(t, 2) for t in times['ours']]}")
    print(f"ratio ours/bare: {o / b:.3f}   same text: {ours_text == bare_text}")


if __name__ == "__main__":
    main()
