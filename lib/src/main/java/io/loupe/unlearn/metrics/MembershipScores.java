package io.loupe.unlearn.metrics;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.Deflater;

/**
 * Membership-inference scores of one text under one model, from its scored tokens (every token after BOS, no EOS
 * appended). Every score is loss-like, as MUSE and mimir orient them: higher means less likely a member.
 *
 * <ul>
 *   <li>LOSS (Yeom et al. 2018): {@code mean_t −log p(x_t)}.</li>
 *   <li>zlib (Carlini et al. 2021): LOSS / {@code len(zlib.compress(UTF-8 text))} at the default level
 *       ({@link Deflater}'s default, level 6, with the zlib wrapper: the same bytes Python's {@code zlib.compress} gives).</li>
 *   <li>Min-K% (Shi et al. 2024): {@code −mean} of the {@code floor(n·k)} lowest token log-probabilities; NaN when that is
 *       no token (as the anchor's {@code np.mean} of an empty slice).</li>
 *   <li>Min-K%++ (Zhang et al. 2024): the same over {@code z_t = (log p(x_t) − μ_t) / σ_t}, with {@code μ_t = Σ_v p log p}
 *       and {@code σ_t² = Σ_v p (log p)² − μ_t²} under the model's next-token distribution at t.</li>
 *   <li>Reference (Carlini et al. 2021): {@code LOSS_model − LOSS_reference}.</li>
 * </ul>
 */
public final class MembershipScores {
    private MembershipScores() {
    }

    /** Mean NLL of the scored tokens: {@code −mean(logp)}. */
    public static double loss(double[] logp) {
        return -Arrays.stream(logp).average().orElse(Double.NaN);
    }

    /** LOSS divided by the zlib-compressed length of the text's UTF-8 bytes. */
    public static double zlib(double loss, String text) {
        return loss / zlibLength(text);
    }

    /** {@code len(zlib.compress(text.encode("utf-8")))}: default level, zlib header and Adler-32 trailer. */
    public static int zlibLength(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        Deflater d = new Deflater();
        d.setInput(in);
        d.finish();
        byte[] buf = new byte[in.length + 64];
        int n = 0;
        while (!d.finished()) {
            if (n == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            n += d.deflate(buf, n, buf.length - n);
        }
        d.end();
        return n;
    }

    /** Min-K%: {@code −mean} of the {@code floor(n·k)} smallest values (NaN when none are selected). */
    public static double minK(double[] values, double k) {
        if (!(k > 0 && k <= 1)) {
            throw new IllegalArgumentException("Min-K% needs 0 < k <= 1, got " + k);
        }
        int take = (int) Math.floor(values.length * k);
        if (take == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (int i = 0; i < take; i++) {
            sum += sorted[i];
        }
        return -sum / take;
    }

    /** Min-K%++: Min-K% over {@code z_t = (logp_t − μ_t) / σ_t}. */
    public static double minKPlusPlus(double[] logp, double[] mu, double[] sigma, double k) {
        double[] z = new double[logp.length];
        for (int t = 0; t < z.length; t++) {
            z[t] = (logp[t] - mu[t]) / sigma[t];
        }
        return minK(z, k);
    }
}
