package io.loupe.circuits;

import java.io.Serializable;

/**
 * One example of a circuit task: a clean and a corrupted prompt of the same length, and the answer the
 * clean prompt should produce against a wrong one, read at {@code answerPos}.
 *
 * @param id        unique name of the example (errors and outputs name it)
 * @param clean     token ids of the clean prompt
 * @param corrupt   token ids of the corrupted prompt, same length as {@code clean}
 * @param answer    token id the clean prompt should predict at {@code answerPos}
 * @param wrong     competing token id (what the corrupted prompt suggests)
 * @param answerPos position whose next-token logits are read, in [0, length)
 */
public record TaskExample(String id, long[] clean, long[] corrupt, long answer, long wrong, int answerPos) implements Serializable {
    public TaskExample {
        if (clean.length == 0) {
            throw new IllegalArgumentException("example '" + id + "': the clean prompt has no tokens");
        }
        if (clean.length != corrupt.length) {
            throw new IllegalArgumentException("example '" + id + "': clean and corrupt differ in length after tokenisation ("
                    + clean.length + " vs " + corrupt.length + " tokens); patching needs them aligned position by position");
        }
        if (answerPos < 0 || answerPos >= clean.length) {
            throw new IllegalArgumentException("example '" + id + "': answer position " + answerPos + " outside [0, " + clean.length + ")");
        }
    }

    public int length() {
        return clean.length;
    }

    /** Throws, naming the example, if a token id falls outside {@code [0, vocab)}. */
    public void validate(int vocab) {
        for (long[] seq : new long[][]{clean, corrupt, {answer, wrong}}) {
            for (long t : seq) {
                if (t < 0 || t >= vocab) {
                    throw new IllegalArgumentException("example '" + id + "': token id " + t + " outside the vocabulary [0, " + vocab + ")");
                }
            }
        }
    }
}
