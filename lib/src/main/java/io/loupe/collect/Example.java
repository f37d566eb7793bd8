package io.loupe.collect;

/**
 * One sequence to run: an id unique in the dataset and its token ids.
 *
 * @param id     the prompt id, or {@code <first prompt id>@<token offset>} for a packed context window
 * @param tokens token ids, BOS included where the tokenizer adds it
 */
public record Example(String id, long[] tokens) implements java.io.Serializable {
    public Example {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("example '" + id + "' has no tokens");
        }
    }
}
