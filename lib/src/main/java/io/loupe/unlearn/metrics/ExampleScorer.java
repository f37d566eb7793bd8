package io.loupe.unlearn.metrics;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import io.loupe.hooks.Hooks;
import io.loupe.model.Generator;
import io.loupe.model.LanguageModel;
import io.loupe.model.TokenBatch;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.train.LmLoss;
import io.loupe.train.QaFormat;
import io.loupe.train.TrainSequence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Computes {@link ExampleScores} for a model on a list of examples, in batches: one teacher-forced pass for the
 * membership scores (log-probabilities of the actual tokens and the mean and spread of log p under the model's
 * distribution at each position), one for the QA answer losses (answer, paraphrase, each perturbed answer), and
 * cached greedy decoding for TOFU's ROUGE, KnowMem and VerbMem. Generated text is cut at the first newline.
 */
public final class ExampleScorer {
    /**
     * @param minK         the k values of Min-K% and Min-K%++ (e.g. 0.4)
     * @param fewShot      KnowMem's prefix: {@code Question: …\nAnswer: …\n\n} blocks before each question ("" for none)
     * @param batchSize    sequences per forward pass
     * @param maxNewTokens cap on greedy tokens for answers (VerbMem uses the length of {@code gt})
     */
    public record Options(double[] minK, String fewShot, int batchSize, int maxNewTokens) implements java.io.Serializable {
        public Options {
            for (double k : minK) {
                if (!(k > 0 && k <= 1)) {
                    throw new IllegalArgumentException("Min-K% ratios must be in (0, 1], got " + Arrays.toString(minK));
                }
            }
            if (batchSize < 1 || maxNewTokens < 1) {
                throw new IllegalArgumentException("batch size and max new tokens must be >= 1");
            }
        }
    }

    private ExampleScorer() {
    }

    /** Scores every example; {@code referenceNll} (per example, or null) feeds the reference attack. */
    public static List<ExampleScores> score(LanguageModel model, PromptTokenizer tok, List<ScoreExample> examples, double[] referenceNll,
                                            Options o) {
        int n = examples.size();
        long eos = model.config().eosTokenId();
        List<long[]> texts = new ArrayList<>();
        for (ScoreExample e : examples) {
            texts.add(checked(tok.encode(e.text()), model, e.id()));
        }
        TokenStats[] stats = tokenStats(model, texts, o.batchSize());
        // QA answer losses: answer, paraphrase and perturbed answers of every QA example, batched together.
        List<TrainSequence> candidates = new ArrayList<>();
        int[] first = new int[n];
        for (int i = 0; i < n; i++) {
            ScoreExample e = examples.get(i);
            first[i] = candidates.size();
            if (e.isQa()) {
                candidates.add(QaFormat.encode(e.id(), e.question(), e.answer(), tok, eos));
                if (e.paraphrased() != null && !e.perturbed().isEmpty()) {
                    candidates.add(QaFormat.encode(e.id(), e.question(), e.paraphrased(), tok, eos));
                    for (String p : e.perturbed()) {
                        candidates.add(QaFormat.encode(e.id(), e.question(), p, tok, eos));
                    }
                }
            }
        }
        double[] candidateLoss = meanTargetNll(model, candidates, o.batchSize());
        String[] answers = greedyTexts(model, tok, examples, e -> e.isQa() ? QaFormat.prompt(e.question()) : null, o.maxNewTokens(), o.batchSize());
        String[] knowMem = o.fewShot().isEmpty() ? answers
                : greedyTexts(model, tok, examples, e -> e.isQa() ? o.fewShot() + QaFormat.prompt(e.question()) : null, o.maxNewTokens(), o.batchSize());
        String[] verbatim = verbatim(model, tok, examples, o.batchSize());

        List<ExampleScores> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ScoreExample e = examples.get(i);
            TokenStats s = stats[i];
            double nll = MembershipScores.loss(s.logp);
            double[] mk = new double[o.minK().length], mkpp = new double[o.minK().length];
            for (int k = 0; k < mk.length; k++) {
                mk[k] = MembershipScores.minK(s.logp, o.minK()[k]);
                mkpp[k] = MembershipScores.minKPlusPlus(s.logp, s.mu, s.sigma, o.minK()[k]);
            }
            double answerLoss = Double.NaN, paraphrased = Double.NaN, perturbed = Double.NaN, ratio = Double.NaN, recall = Double.NaN,
                    knowF1 = Double.NaN, verbF1 = Double.NaN;
            String generated = null;
            if (e.isQa()) {
                answerLoss = candidateLoss[first[i]];
                if (e.paraphrased() != null && !e.perturbed().isEmpty()) {
                    paraphrased = candidateLoss[first[i] + 1];
                    double[] pert = Arrays.copyOfRange(candidateLoss, first[i] + 2, first[i] + 2 + e.perturbed().size());
                    perturbed = Arrays.stream(pert).average().orElseThrow();
                    ratio = TruthRatio.ratio(paraphrased, pert);
                }
                recall = RougeL.score(e.answer(), answers[i]).recall();
                knowF1 = RougeL.score(e.answer(), knowMem[i]).f1();
                generated = answers[i];
            }
            if (e.hasVerbatim()) {
                verbF1 = RougeL.score(e.gt(), verbatim[i]).f1();
                generated = generated == null ? verbatim[i] : generated;
            }
            out.add(new ExampleScores(e.id(), s.logp.length, nll, MembershipScores.zlib(nll, e.text()), mk, mkpp,
                    referenceNll == null ? Double.NaN : referenceNll[i], answerLoss, Math.exp(-answerLoss), paraphrased, perturbed, ratio, recall,
                    knowF1, verbF1, generated));
        }
        return out;
    }

    /** LOSS (mean NLL of every token after the first) of each example's text: what the reference model contributes. */
    public static double[] loss(LanguageModel model, PromptTokenizer tok, List<ScoreExample> examples, int batchSize) {
        List<long[]> texts = new ArrayList<>();
        for (ScoreExample e : examples) {
            texts.add(checked(tok.encode(e.text()), model, e.id()));
        }
        TokenStats[] stats = tokenStats(model, texts, batchSize);
        return Arrays.stream(stats).mapToDouble(s -> MembershipScores.loss(s.logp)).toArray();
    }

    /** Per scored token: log p(actual), μ = Σ p log p and σ = sqrt(Σ p (log p)² − μ²). */
    private record TokenStats(double[] logp, double[] mu, double[] sigma) {
    }

    private static TokenStats[] tokenStats(LanguageModel model, List<long[]> texts, int batchSize) {
        TokenStats[] out = new TokenStats[texts.size()];
        for (int from = 0; from < texts.size(); from += batchSize) {
            List<long[]> b = texts.subList(from, Math.min(texts.size(), from + batchSize));
            try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                TokenBatch batch = TokenBatch.of(m, b, 0);
                NDArray logProbs = model.forward(batch, Hooks.none()).get(new NDIndex(":, :-1, :")).logSoftmax(2).toType(ai.djl.ndarray.types.DataType.FLOAT64, false);
                NDArray p = logProbs.exp();
                NDArray mu = p.mul(logProbs).sum(new int[]{2});
                NDArray var = p.mul(logProbs.square()).sum(new int[]{2}).sub(mu.square()).maximum(0);
                NDArray actual = logProbs.gather(batch.ids().get(new NDIndex(":, 1:")).expandDims(2), 2).squeeze(2);
                double[] lp = actual.toDoubleArray(), mus = mu.toDoubleArray(), sd = var.sqrt().toDoubleArray();
                int width = batch.seqLen() - 1;
                for (int i = 0; i < b.size(); i++) {
                    int len = b.get(i).length - 1;
                    out[from + i] = new TokenStats(Arrays.copyOfRange(lp, i * width, i * width + len), Arrays.copyOfRange(mus, i * width, i * width + len),
                            Arrays.copyOfRange(sd, i * width, i * width + len));
                }
            }
        }
        return out;
    }

    /** Mean NLL per target token of each sequence. */
    private static double[] meanTargetNll(LanguageModel model, List<TrainSequence> seqs, int batchSize) {
        double[] out = new double[seqs.size()];
        for (int from = 0; from < seqs.size(); from += batchSize) {
            List<TrainSequence> b = seqs.subList(from, Math.min(seqs.size(), from + batchSize));
            try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                TokenBatch batch = LmLoss.batch(m, b);
                double[] sums = LmLoss.sequenceNll(model.forward(batch, Hooks.none()), batch, b).toType(ai.djl.ndarray.types.DataType.FLOAT64, false)
                        .toDoubleArray();
                for (int i = 0; i < b.size(); i++) {
                    out[from + i] = sums[i] / b.get(i).targets();
                }
            }
        }
        return out;
    }

    /** Greedy completions of a prompt per example (null prompt: skipped), decoded and cut at the first newline. */
    private static String[] greedyTexts(LanguageModel model, PromptTokenizer tok, List<ScoreExample> examples,
                                        java.util.function.Function<ScoreExample, String> prompt, int maxNew, int batchSize) {
        String[] out = new String[examples.size()];
        List<Integer> idx = new ArrayList<>();
        List<long[]> prompts = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            String p = prompt.apply(examples.get(i));
            if (p != null) {
                idx.add(i);
                prompts.add(tok.encode(p));
            }
        }
        decode(model, tok, prompts, idx, out, i -> maxNew, batchSize);
        return out;
    }

    /** VerbMem: the greedy continuation of each example's prompt, as many tokens as its gt has. */
    private static String[] verbatim(LanguageModel model, PromptTokenizer tok, List<ScoreExample> examples, int batchSize) {
        String[] out = new String[examples.size()];
        List<Integer> idx = new ArrayList<>();
        List<long[]> prompts = new ArrayList<>();
        int[] lengths = new int[examples.size()];
        for (int i = 0; i < examples.size(); i++) {
            ScoreExample e = examples.get(i);
            if (e.hasVerbatim()) {
                idx.add(i);
                prompts.add(tok.encode(e.prompt()));
                long[] full = tok.encode(e.prompt() + " " + e.gt()), head = tok.encode(e.prompt());
                lengths[i] = Math.max(1, full.length - head.length);
            }
        }
        decode(model, tok, prompts, idx, out, i -> lengths[i], batchSize);
        return out;
    }

    private static void decode(LanguageModel model, PromptTokenizer tok, List<long[]> prompts, List<Integer> idx, String[] out,
                               java.util.function.IntUnaryOperator maxNew, int batchSize) {
        for (int from = 0; from < prompts.size(); from += batchSize) {
            int to = Math.min(prompts.size(), from + batchSize);
            int cap = 1;
            for (int j = from; j < to; j++) {
                cap = Math.max(cap, maxNew.applyAsInt(idx.get(j)));
            }
            List<long[]> gen = Generator.greedy(model, prompts.subList(from, to), cap, model.config().eosTokenId());
            for (int j = from; j < to; j++) {
                long[] g = gen.get(j - from);
                int limit = Math.min(g.length, maxNew.applyAsInt(idx.get(j)));
                String text = tok.decode(Arrays.copyOf(g, limit));
                int nl = text.indexOf('\n');
                out[idx.get(j)] = (nl >= 0 ? text.substring(0, nl) : text).strip();
            }
        }
    }

    private static long[] checked(long[] ids, LanguageModel model, String id) {
        if (ids.length < 2) {
            throw new IllegalArgumentException("example '" + id + "' has fewer than 2 tokens: nothing to score");
        }
        for (long t : ids) {
            if (t < 0 || t >= model.config().vocabSize()) {
                throw new IllegalArgumentException("example '" + id + "': token " + t + " is outside the model's vocabulary");
            }
        }
        return ids;
    }
}
