package io.loupe.forward;

/**
 * One prompt: an id and either text (tokenised by the model's tokenizer) or token ids.
 *
 * @param id       unique within its file; names the output tensors {@code <id>.logits}, {@code <id>.<hook>}
 * @param text     the prompt text, or null when {@code tokenIds} is given
 * @param tokenIds the token ids as given, or null when {@code text} is given
 */
public record Prompt(String id, String text, long[] tokenIds) implements java.io.Serializable {
    public Prompt {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("prompt without an id");
        }
        if ((text == null) == (tokenIds == null)) {
            throw new IllegalArgumentException("prompt '" + id + "' needs exactly one of text or token_ids");
        }
    }

    /**
     * The ids the model runs: {@code tokenIds} as given, or {@code text} through {@code tokenizer}; checked
     * to be non-empty and inside the vocabulary, so a bad id fails here with the prompt's name, not in an
     * embedding lookup.
     *
     * @param tokenizer may be null when the prompt carries token ids
     */
    public long[] tokens(io.loupe.tokenize.PromptTokenizer tokenizer, int vocabSize) {
        long[] ids;
        if (tokenIds != null) {
            ids = tokenIds;
        } else if (tokenizer == null) {
            throw new IllegalArgumentException("prompt '" + id + "' has text but the model has no tokenizer.json");
        } else {
            ids = tokenizer.encode(text);
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException("prompt '" + id + "' tokenises to no tokens");
        }
        for (long t : ids) {
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException("prompt '" + id + "': token id " + t + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        return ids;
    }
}
