"""Speech: decode any audio/video, transcribe, diarize, attribute words to speakers, name speakers."""
