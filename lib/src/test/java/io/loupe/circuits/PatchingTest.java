package io.loupe.circuits;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.RandomModelWriter;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.SafetensorsWriter;
import io.loupe.tensor.TensorDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Patching, attribution and circuit evaluation against direct one-example computations through the runtime. */
class PatchingTest {
    private static Path randomModel(Path dir) throws IOException {
        new RandomModelWriter(2, 64, 4, 2, 128, 320, 11, false, false, TensorDtype.F32, 1).write(dir);
        return dir;
    }

    /** Six induction examples and one shorter hand-made one, so batches carry padding. */
    private static List<TaskExample> examples(LanguageModel model) {
        List<TaskExample> ex = new ArrayList<>(TaskGenerators.induction(model.config(), 6, 5, 3, null));
        ex.add(new TaskExample("short", new long[]{1, 40, 41, 40}, new long[]{1, 50, 51, 40}, 41, 51, 3));
        return ex;
    }

    @Test
    void batchedActivationPatchingEqualsOneExampleAtATime(@TempDir Path dir) throws IOException {
        try (LanguageModel model = ModelLoader.load(randomModel(dir), Device.cpu())) {
            List<TaskExample> ex = examples(model);
            List<Node> nodes = Node.enumerate(model.config(), List.of(NodeType.values()), 10);
            for (Direction dir2 : Direction.values()) {
                PatchResult r = ActivationPatching.run(model, ex, nodes, dir2, 16);   // several chunks of nodes
                for (int n = 0; n < nodes.size(); n += 3) {
                    for (int b = 0; b < ex.size(); b++) {
                        Node node = nodes.get(n);
                        boolean exists = node.type() != NodeType.RESID_POS || node.index() < ex.get(b).length();
                        assertEquals(exists, r.valid()[n][b]);
                        if (exists) {
                            assertEquals(DirectPatching.patched(model, ex.get(b), node, dir2), r.patched()[n][b], 2e-5, dir2 + " " + node + " " + ex.get(b).id());
                        }
                    }
                }
                for (int b = 0; b < ex.size(); b++) {
                    assertEquals(DirectPatching.patched(model, ex.get(b), null, Direction.NOISE), r.mClean()[b], 2e-5);
                    assertEquals(DirectPatching.patched(model, ex.get(b), null, Direction.DENOISE), r.mCorrupt()[b], 2e-5);
                }
            }
        }
    }

    @Test
    void attributionEqualsActivationPatchingWhereTheModelIsLinearInTheNode(@TempDir Path dir) throws IOException {
        Path model = linearInLastAttention(randomModel(dir));
        try (LanguageModel lm = ModelLoader.load(model, Device.cpu(), DataType.FLOAT64)) {
            List<TaskExample> ex = examples(lm);
            int last = lm.config().numLayers() - 1;
            List<Node> linear = new ArrayList<>(List.of(new Node(NodeType.ATTN, last, 0), new Node(NodeType.MLP, last, 0)));
            for (int h = 0; h < lm.config().numHeads(); h++) {
                linear.add(new Node(NodeType.HEAD, last, h));
            }
            List<Node> nonlinear = List.of(new Node(NodeType.HEAD, 0, 0), new Node(NodeType.ATTN, 0, 0), new Node(NodeType.RESID_POS, last, 2));
            List<Node> all = new ArrayList<>(linear);
            all.addAll(nonlinear);
            for (Direction d : Direction.values()) {
                PatchResult act = ActivationPatching.run(lm, ex, all, d, 64);
                PatchResult attr = AttributionPatching.run(lm, ex, all, d);
                double scale = 0, worstLinear = 0, bestNonlinear = Double.MAX_VALUE;
                for (int n = 0; n < all.size(); n++) {
                    double err = 0;
                    for (int b = 0; b < ex.size(); b++) {
                        scale = Math.max(scale, Math.abs(act.patched()[n][b] - (d.fromClean() ? act.mCorrupt()[b] : act.mClean()[b])));
                        err = Math.max(err, Math.abs(act.patched()[n][b] - attr.patched()[n][b]));
                    }
                    if (n < linear.size()) {
                        worstLinear = Math.max(worstLinear, err);
                    } else {
                        bestNonlinear = Math.min(bestNonlinear, err);
                    }
                }
                assertTrue(scale > 1e-3, "patching must move the metric for the comparison to mean anything: " + scale);
                assertTrue(worstLinear <= 1e-6 * scale, d + ": linear nodes differ by " + worstLinear + " (effects up to " + scale + ")");
                assertTrue(bestNonlinear > 1e-2 * scale, d + ": the first-order estimate should miss on nonlinear nodes: " + bestNonlinear);
            }
        }
    }

    @Test
    void circuitEvaluationWithMeanAblationEqualsDirectAblation(@TempDir Path dir) throws IOException {
        try (LanguageModel model = ModelLoader.load(randomModel(dir), Device.cpu())) {
            List<TaskExample> ex = TaskGenerators.induction(model.config(), 5, 4, 9, null);   // equal lengths: per-position means over all
            List<Node> components = Node.enumerate(model.config(), List.of(NodeType.HEAD, NodeType.MLP), 0);
            Set<Node> circuit = new LinkedHashSet<>(List.of(new Node(NodeType.HEAD, 1, 2), new Node(NodeType.MLP, 0, 0)));
            Set<HookPoint> points = new LinkedHashSet<>();
            components.forEach(n -> points.add(n.hook()));
            AblationMeans means = new AblationMeans();
            means.add(model, ex.subList(0, 2), points);
            means.add(model, ex.subList(2, 5), points);   // two shards merge to the same sums
            CircuitEval.Metrics mt = CircuitEval.run(model, ex, components, circuit, Ablation.MEAN, means);

            Set<Node> outside = new HashSet<>(components);
            outside.removeAll(circuit);
            try (NDManager m = model.manager().newSubManager()) {
                Hooks cap = new Hooks().capture(points);
                model.forward(TaskBatch.of(m, ex).corrupt(), cap);
                for (int b = 0; b < ex.size(); b++) {
                    assertEquals(DirectPatching.patched(model, ex.get(b), null, Direction.NOISE), mt.full()[b], 2e-5, "M is the clean run");
                    assertEquals(DirectPatching.meanAblated(model, ex.get(b), outside, cap), mt.circuit()[b], 2e-5, "C");
                    assertEquals(DirectPatching.meanAblated(model, ex.get(b), new HashSet<>(components), cap), mt.empty()[b], 2e-5, "∅");
                    assertEquals(DirectPatching.meanAblated(model, ex.get(b), circuit, cap), mt.complement()[b], 2e-5, "M∖C");
                }
            }
            CircuitEval.Metrics everything = CircuitEval.run(model, ex, components, new HashSet<>(components), Ablation.ZERO, null);
            assertEquals(mean(everything.full()), mean(everything.circuit()), 1e-5, "the whole model as its circuit is fully faithful");
            assertEquals(1.0, Circuits.faithfulness(mean(everything.circuit()), mean(everything.empty()), mean(everything.full())), 1e-4);
            CircuitEval.Metrics nothing = CircuitEval.run(model, ex, components, Set.of(), Ablation.RESAMPLE, null);
            assertEquals(mean(nothing.empty()), mean(nothing.circuit()), 1e-6);
            assertFalse(mean(nothing.full()) == mean(nothing.empty()), "resampling every component changes the metric");
        }
    }

    /**
     * Rewrites a random model so the logits are linear in the last block's attention: RMSNorm becomes a
     * linear map (eps 1e10 ≫ mean square, gains 1e5 restore the scale), the last MLP is zeroed, and the
     * embeddings and projections are scaled up so attention and MLPs of earlier nodes are clearly nonlinear.
     */
    private static Path linearInLastAttention(Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        JsonObject o = JsonParser.parseString(Files.readString(cfg)).getAsJsonObject();
        o.addProperty("rms_norm_eps", 1e10);
        Files.writeString(cfg, o.toString());
        SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"));
        SafetensorsWriter w = new SafetensorsWriter();
        int last = o.get("num_hidden_layers").getAsInt() - 1;
        for (var e : f.entries().values()) {
            ByteBuffer in = f.bytes(e.name()).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[(int) e.numel()];
            in.asFloatBuffer().get(v);
            float factor = e.name().endsWith("norm.weight") ? 1e5f : e.name().equals("model.embed_tokens.weight") ? 50f
                    : e.name().equals("model.layers." + last + ".mlp.down_proj.weight") ? 0f : 8f;
            for (int i = 0; i < v.length; i++) {
                v[i] *= factor;
            }
            w.put(e.name(), SafetensorsWriter.HostTensor.ofFloats(v, e.shape()));
        }
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }
}
