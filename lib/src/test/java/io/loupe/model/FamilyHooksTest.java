package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loupe.TestData;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hook mechanism on every family: gradients against finite differences, replacement, and a missing hook refused. */
class FamilyHooksTest {
    private static final long[] TOKENS = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};

    /**
     * d(logit difference at the last position)/d(activation) against central finite differences in float64, at entries with
     * a non-zero gradient (so a zero on both sides cannot pass). One hook per family, each a different kind.
     */
    @ParameterizedTest
    @CsvSource({"tiny-gpt2, blocks.1.attn.hook_z", "tiny-neox, blocks.1.mlp.hook_post", "tiny-neox-seq, blocks.0.hook_resid_mid",
        "tiny-gemma2, blocks.1.attn.hook_pattern", "tiny-gemma2, blocks.2.hook_mlp_out"})
    void hookGradientsAgreeWithFiniteDifferences(String fixture, String hook) throws IOException {
        Path dir = TestData.shared().resolve("models").resolve(fixture);
        HookPoint p = HookPoint.parse(hook);
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu(), DataType.FLOAT64); NDManager m = model.manager().newSubManager()) {
            int last = TOKENS.length - 1;
            java.util.function.Function<NDArray, NDArray> metric = logits -> logits.get(new NDIndex("0, {}, 17", last))
                    .sub(logits.get(new NDIndex("0, {}, 250", last)));
            Map<HookPoint, NDArray> grads = HookGradients.compute(model, TokenBatch.of(m, List.of(TOKENS), 0), Hooks.none(), List.of(p), metric);
            NDArray g = grads.get(p);
            double[] values = g.flatten().toDoubleArray();
            double max = java.util.Arrays.stream(values).map(Math::abs).max().orElse(0);
            long[] live = java.util.stream.IntStream.range(0, values.length).filter(i -> Math.abs(values[i]) > 1e-6 * max).mapToLong(i -> i).toArray();
            assertTrue(live.length >= 4, fixture + " " + hook + ": " + live.length + " entries with a non-zero gradient");
            Random rnd = new Random(7);
            for (int trial = 0; trial < 4; trial++) {
                int flat = (int) live[rnd.nextInt(live.length)];
                double numeric = (bumped(model, m, metric, p, g.getShape(), flat, 1e-5) - bumped(model, m, metric, p, g.getShape(), flat, -1e-5)) / 2e-5;
                assertEquals(numeric, values[flat], 1e-7 + 1e-5 * Math.abs(numeric), fixture + " " + hook + " element " + flat);
            }
        }
    }

    private static double bumped(LanguageModel model, NDManager m, java.util.function.Function<NDArray, NDArray> metric, HookPoint p, Shape shape,
                                 int flat, double eps) {
        double[] bump = new double[(int) shape.size()];
        bump[flat] = eps;
        NDArray delta = m.create(bump, shape);
        return metric.apply(model.forward(TokenBatch.of(m, List.of(TOKENS), 0), Hooks.none().replace(p, (a, q) -> a.add(delta)))).getDouble();
    }

    /** Parallel-residual NeoX has no hook_resid_mid: asking for it is refused with the reason, and the model does not list it. */
    @Test
    void parallelNeoxRefusesResidMid() throws IOException {
        Path dir = TestData.shared().resolve("models/tiny-neox");
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            assertTrue(model.hookPoints().stream().noneMatch(h -> h.kind() == HookKind.RESID_MID));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(TokenBatch.of(m, List.of(TOKENS), 0), Hooks.none().capture(HookPoint.parse("blocks.0.hook_resid_mid"))));
            assertTrue(e.getMessage().contains("parallel residual") && e.getMessage().contains("no hook_resid_mid"), e.getMessage());
        }
    }

    /** Zero-ablating one head through attn.hook_z equals removing its slice of the output projection, on GPT-2 (biases) and Gemma-2 (post-norm). */
    @Test
    void headAblationThroughHookZ() throws IOException {
        Path dir = TestData.shared().resolve("models/tiny-gpt2");
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu(), DataType.FLOAT64); NDManager m = model.manager().newSubManager()) {
            HookPoint z = HookPoint.parse("blocks.1.attn.hook_z"), out = HookPoint.parse("blocks.1.hook_attn_out");
            Hooks clean = Hooks.none().capture(z, out);
            model.forward(TokenBatch.of(m, List.of(TOKENS), 0), clean);
            int dh = model.config().dHead();
            double[] keep = new double[model.config().numHeads() * dh];
            java.util.Arrays.fill(keep, 1);
            java.util.Arrays.fill(keep, 2 * dh, 3 * dh, 0);   // head 2
            NDArray mask = m.create(keep, new Shape(1, 1, model.config().numHeads(), dh));
            Hooks ablated = Hooks.none().replace(z, (a, q) -> a.mul(mask)).capture(out);
            model.forward(TokenBatch.of(m, List.of(TOKENS), 0), ablated);
            NDArray wo = model.parameters().get("blocks.1.attn.out.weight");             // [d, H·dh]
            NDArray head = clean.captured(z).get(new NDIndex(":, :, 2, :")).matMul(wo.get(new NDIndex(":, {}:{}", 2 * dh, 3 * dh)).transpose());
            double diff = clean.captured(out).sub(head).sub(ablated.captured(out)).abs().max().getDouble();
            assertTrue(diff < 1e-10, "attn_out minus the head's term equals the ablated attn_out: " + diff);
        }
    }
}
