package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replacement and gradient hooks checked against direct computations. */
class HookInterventionTest {
    private static final long[] TOKENS = {1, 40, 300, 77, 12, 250, 8, 99, 5};

    @Test
    void forwardFromALayersResidualEqualsTheFullForward(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 3);
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            TokenBatch b = TokenBatch.of(m, List.of(TOKENS, new long[]{1, 5, 9}), 0);   // padded: the mask must carry over
            Hooks cap = Hooks.none().capture(HookPoint.of(1, HookKind.RESID_PRE));
            float[] full = model.forward(b, cap).toFloatArray();
            float[] tail = model.forwardFrom(b, 1, cap.captured(HookPoint.of(1, HookKind.RESID_PRE)), Hooks.none()).toFloatArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(full, tail, "the same arithmetic from block 1 on");
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> model.forwardFrom(b, 1, m.zeros(new Shape(1, 2, 3)), Hooks.none()));
        }
    }

    @Test
    void zeroAblatingOneHeadEqualsSubtractingItsOutputProjection(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 7);
        int layer = 1, head = 2;
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            int heads = model.config().numHeads(), dHead = model.config().dHead();
            HookPoint z = HookPoint.of(layer, HookKind.ATTN_Z);
            HookPoint attnOut = HookPoint.of(layer, HookKind.ATTN_OUT);

            Hooks clean = Hooks.none().capture(z);
            NDArray cleanLogits = model.forward(batch(m), clean);
            NDArray zClean = clean.captured(z);                                   // [1, T, H, dh]

            float[] keep = new float[heads];
            java.util.Arrays.fill(keep, 1f);
            keep[head] = 0f;
            NDArray headMask = m.create(keep, new Shape(1, 1, heads, 1));
            NDArray ablated = model.forward(batch(m), Hooks.none().replace(z, (a, p) -> a.mul(headMask)));

            // Direct: the head adds z_h W_O[:, h*dh:(h+1)*dh]^T to attn_out; subtract exactly that.
            NDArray wo = SafetensorsFile.open(dir.resolve("model.safetensors"))
                    .load(m, "model.layers." + layer + ".self_attn.o_proj.weight", DataType.FLOAT32);
            NDArray woHead = wo.get(new NDIndex(":, {}:{}", head * dHead, (head + 1) * dHead));   // [D, dh]
            NDArray zHead = zClean.get(new NDIndex(":, :, {}, :", head));                        // [1, T, dh]
            NDArray contribution = Linear.linear(zHead, woHead).singletonOrThrow();             // [1, T, D]
            NDArray direct = model.forward(batch(m), Hooks.none().replace(attnOut, (a, p) -> a.sub(contribution)));

            assertTrue(maxAbs(ablated.sub(direct)) < 1e-5, "ablation vs direct: " + maxAbs(ablated.sub(direct)));
            assertTrue(maxAbs(ablated.sub(cleanLogits)) > 1e-3, "ablating a head should change the logits");
        }
    }

    @Test
    void patchingTheWholeResidualStreamReproducesTheSourceRun(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 8);
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            HookPoint p = HookPoint.of(1, HookKind.RESID_PRE);
            long[] other = TOKENS.clone();
            other[3] = 123;
            other[6] = 200;
            Hooks source = Hooks.none().capture(p);
            NDArray sourceLogits = model.forward(TokenBatch.of(m, List.of(other), 0), source);
            NDArray cache = source.captured(p);
            NDArray patched = model.forward(batch(m), Hooks.none().replace(p, (a, q) -> cache));
            NDArray target = model.forward(batch(m), Hooks.none());
            assertTrue(maxAbs(patched.sub(sourceLogits)) < 1e-5);
            assertTrue(maxAbs(target.sub(sourceLogits)) > 1e-3);
        }
    }

    @Test
    void hookGradientsAgreeWithFiniteDifferences(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 9);
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu(), DataType.FLOAT64);
             NDManager m = model.manager().newSubManager()) {
            int last = TOKENS.length - 1;
            // Logit difference between two tokens at the last position: the usual circuits metric.
            java.util.function.Function<NDArray, NDArray> metric =
                    logits -> logits.get(new NDIndex("0, {}, 17", last)).sub(logits.get(new NDIndex("0, {}, 250", last)));
            List<HookPoint> points = List.of(HookPoint.of(0, HookKind.ATTN_Z), HookPoint.of(1, HookKind.RESID_MID),
                    HookPoint.of(0, HookKind.MLP_POST), HookPoint.of(1, HookKind.ATTN_PATTERN));
            Map<HookPoint, NDArray> grads = HookGradients.compute(model, batch(m), Hooks.none(), points, metric);

            // Entries are sampled among those whose gradient is not zero: most of hook_pattern's (every query but the last)
            // cannot move a metric read at the last position, and comparing 0 with 0 would prove nothing.
            Random rnd = new Random(1);
            double eps = 1e-5;
            for (HookPoint p : points) {
                NDArray g = grads.get(p);
                long[] shape = g.getShape().getShape();
                double[] values = g.flatten().toDoubleArray();
                double gradNorm = java.util.Arrays.stream(values).map(Math::abs).max().orElse(0);
                assertTrue(gradNorm > 0, "gradient at " + p + " is zero");
                long[] live = java.util.stream.IntStream.range(0, values.length).filter(i -> Math.abs(values[i]) > 1e-6 * gradNorm)
                        .mapToLong(i -> i).toArray();
                assertTrue(live.length >= 4, p + ": only " + live.length + " entries with a non-zero gradient");
                for (int trial = 0; trial < 4; trial++) {
                    long flat = live[rnd.nextInt(live.length)];
                    double analytic = values[(int) flat];
                    assertTrue(analytic != 0, p + " element " + flat + ": a zero gradient would make the check vacuous");
                    double plus = metricWithBump(model, m, metric, p, shape, flat, eps);
                    double minus = metricWithBump(model, m, metric, p, shape, flat, -eps);
                    double numeric = (plus - minus) / (2 * eps);
                    assertEquals(numeric, analytic, 1e-7 + 1e-5 * Math.abs(numeric), p + " element " + flat);
                }
            }
        }
    }

    private static double metricWithBump(LanguageModel model, NDManager m, java.util.function.Function<NDArray, NDArray> metric,
                                         HookPoint p, long[] shape, long flat, double eps) {
        double[] bump = new double[(int) new Shape(shape).size()];
        bump[(int) flat] = eps;
        NDArray delta = m.create(bump, new Shape(shape));
        return metric.apply(model.forward(batch(m), Hooks.none().replace(p, (a, q) -> a.add(delta)))).getDouble();
    }

    private static TokenBatch batch(NDManager m) {
        return TokenBatch.of(m, List.of(TOKENS), 0);
    }

    private static double maxAbs(NDArray a) {
        return a.abs().max().toType(DataType.FLOAT64, false).getDouble();
    }
}
