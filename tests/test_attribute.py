"""Words go to the speaker who holds most of them; overlapped speech is marked."""

from takeaway.speech.attribute import attribute, overlaps
from takeaway.speech.types import Segment, SpeakerTurn, Word


def seg(words):
    return Segment(id=0, start=words[0][0], end=words[-1][1], text="".join(w for _, _, w in words),
                   words=[Word(start=s, end=e, word=w) for s, e, w in words])


def test_a_word_straddling_a_change_goes_to_who_holds_most_of_it():
    turns = [SpeakerTurn(start=0, end=2.1, speaker="A"), SpeakerTurn(start=2.1, end=5, speaker="B")]
    out = attribute([seg([(0.0, 1.0, " I"), (1.0, 1.9, " will"), (1.9, 2.6, " go."), (2.6, 3.5, " Yes.")])], turns)
    assert [(s.speaker, s.text) for s in out] == [("A", "I will"), ("B", "go. Yes.")]  # 0.2 s vs 0.5 s
    assert not any(s.overlap for s in out)


def test_overlapped_speech_is_marked():
    turns = [SpeakerTurn(start=0, end=4, speaker="A"), SpeakerTurn(start=3, end=6, speaker="B"),
             SpeakerTurn(start=6.5, end=8, speaker="A")]
    assert overlaps(turns) == [(3, 4)]
    out = attribute([seg([(0.0, 1.0, " Fine,"), (1.0, 2.0, " thanks.")]),
                     seg([(2.6, 3.2, " I'll"), (3.2, 3.9, " send"), (4.1, 5.0, " it.")]),
                     seg([(6.6, 7.5, " Great.")])], turns)
    # "I'll send" is A's (A holds most of each word), "it." is B's after A stopped: only A's part overlaps
    assert [(s.speaker, s.overlap) for s in out] == [("A", False), ("A", True), ("B", False), ("A", False)]



def test_call_channels_are_cut_into_turns_and_merged_in_time_order():
    from takeaway.speech.attribute import merge_channels

    # the VAD joined the agent's two turns into one segment; the customer spoke in the pause between them
    agent = [seg([(0.0, 0.8, " Hello,"), (0.8, 1.5, " Kevin."), (4.0, 4.6, " I'll"), (4.6, 5.5, " refund it.")])]
    customer = [seg([(2.0, 3.4, " Charged twice."), (5.0, 5.8, " Thanks.")])]
    turns = [SpeakerTurn(start=0, end=1.6, speaker="A"), SpeakerTurn(start=1.9, end=3.5, speaker="C"),
             SpeakerTurn(start=3.9, end=5.6, speaker="A"), SpeakerTurn(start=4.9, end=5.9, speaker="C")]
    out = merge_channels([agent, customer], turns, ["A", "C"])
    assert [(s.id, s.speaker, s.text) for s in out] == [
        (0, "A", "Hello, Kevin."), (1, "C", "Charged twice."), (2, "A", "I'll refund it."), (3, "C", "Thanks.")]
    assert all(w.speaker == s.speaker for s in out for w in s.words)
    assert [s.overlap for s in out] == [False, False, True, True]  # both talk over 4.9-5.6 s
