package io.loupe.forward;

/**
 * One prompt: an id and either text (tokenised by the model's tokenizer) or token ids.
 *
 * @param id       unique within its file; names the output tensors {@code <id>.logits}, {@code <id>.<hook>}
 * @param text     the prompt text, or null when {@code tokenIds} is given
 * @param tokenIds the token ids as given, or null when {@code text} is given
 */
public record Prompt(String id, String text, long[] tokenIds) {
    public Prompt {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("prompt without an id");
        }
        if ((text == null) == (tokenIds == null)) {
            throw new IllegalArgumentException("prompt '" + id + "' needs exactly one of text or token_ids");
        }
    }
}
