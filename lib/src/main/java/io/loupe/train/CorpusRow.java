package io.loupe.train;

import io.loupe.collect.Example;
import io.loupe.model.ModelConfig;
import io.loupe.tokenize.PromptTokenizer;

/**
 * One corpus row as the trainer reads it: {@code text} or {@code token_ids} (a document, packed with the others
 * into context windows), or {@code question} + {@code answer} (one sequence in {@link QaFormat}, loss on the
 * answer only). Token ids win over text when both are present.
 */
public record CorpusRow(String id, String text, long[] tokenIds, String question, String answer) implements java.io.Serializable {

    /** A row encoded: exactly one of a document to pack or a QA sequence. */
    public record Encoded(Example document, TrainSequence qa) implements java.io.Serializable {
    }

    public boolean isQa() {
        return tokenIds == null && text == null && question != null;
    }

    /**
     * Tokenises the row with the model's tokenizer and checks every id against the vocabulary.
     *
     * @param tok may be null when every row carries token ids
     */
    public Encoded encode(PromptTokenizer tok, ModelConfig cfg) {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("a corpus row has no id");
        }
        if (isQa()) {
            if (answer == null) {
                throw new IllegalArgumentException("corpus row '" + id + "' has a question but no answer");
            }
            requireTokenizer(tok);
            TrainSequence s = QaFormat.encode(id, question, answer, tok, cfg.eosTokenId());
            checkVocab(s.ids(), cfg.vocabSize());
            return new Encoded(null, s);
        }
        long[] ids;
        if (tokenIds != null) {
            ids = tokenIds;
        } else if (text != null) {
            requireTokenizer(tok);
            ids = tok.encode(text);
        } else {
            throw new IllegalArgumentException("corpus row '" + id + "' needs text, token_ids, or question and answer");
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException("corpus row '" + id + "' has no tokens");
        }
        checkVocab(ids, cfg.vocabSize());
        return new Encoded(new Example(id, ids), null);
    }

    private void requireTokenizer(PromptTokenizer tok) {
        if (tok == null) {
            throw new IllegalArgumentException("corpus row '" + id + "' has text but no tokenizer was given (the model directory has no"
                    + " tokenizer.json; pass --tokenizer DIR or give token_ids)");
        }
    }

    private void checkVocab(long[] ids, int vocab) {
        for (long t : ids) {
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("corpus row '" + id + "': token id " + t + " is outside the model's vocabulary [0, " + vocab
                        + "); was the corpus tokenised for another model?");
            }
        }
    }
}
