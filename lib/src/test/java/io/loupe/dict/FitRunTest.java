package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.loupe.hooks.HookPoint;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fit's input checks: nothing trains on data it should refuse. */
class FitRunTest {
    private static final HookPoint HOOK = HookPoint.parse("blocks.0.hook_resid_post");

    private static List<FitRun.Row> rows(int examples, int width) {
        List<FitRun.Row> out = new ArrayList<>();
        for (int e = 0; e < examples; e++) {
            for (int t = 0; t < 8; t++) {
                float[] v = new float[width];
                for (int i = 0; i < width; i++) {
                    v[i] = (float) Math.sin(e * 31 + t * 7 + i);
                }
                out.add(new FitRun.Row("ex" + e, t, t + 3, v));
            }
        }
        return out;
    }

    private static String failure(List<FitRun.Row> rows, double evalFraction) {
        SaeConfig cfg = SaeConfig.defaults(Architecture.TOPK, 8, 16, 2).withTraining(1e-3, 2, 16, 0, 0);
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            return assertThrows(IllegalArgumentException.class,
                    () -> FitRun.run(cfg, rows, HOOK, null, null, evalFraction, null, Map.of(), m, s -> { }, null)).getMessage();
        }
    }

    @Test
    void refusesEmptyDataWidthMismatchNaNAndAnEmptySplit() {
        assertTrue(failure(List.of(), 0.1).contains("no rows"));
        assertTrue(failure(rows(10, 6), 0.1).contains("width 6"), failure(rows(10, 6), 0.1));
        List<FitRun.Row> nan = rows(10, 8);
        nan.get(3).values()[2] = Float.NaN;
        nan.get(5).values()[0] = Float.POSITIVE_INFINITY;
        assertTrue(failure(nan, 0.1).startsWith("2 rows"), failure(nan, 0.1));
        assertTrue(failure(rows(10, 8), 0.0).contains("held-out"), failure(rows(10, 8), 0.0));
    }

    @Test
    void trainsAndReportsWithoutAModel() throws Exception {
        SaeConfig cfg = SaeConfig.defaults(Architecture.TOPK, 8, 16, 2).withTraining(1e-3, 5, 16, 0, 0);
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            Map<String, Object> r = FitRun.run(cfg, rows(40, 8), HOOK, null, null, 0.2, null, Map.of(), m, s -> { }, null);
            assertEquals(2.0, (double) r.get("mean_l0"), 1e-9);
            assertTrue(((Number) r.get("held_out_tokens")).longValue() > 0 && !r.containsKey("ce_loss_recovered"));
        }
    }

    @Test
    void heldOutSplitIsStableAndRoughlyTheFractionAsked() {
        int held = 0;
        for (int i = 0; i < 2000; i++) {
            held += FitRun.heldOut("p" + i, 0, 0.1) ? 1 : 0;
            assertEquals(FitRun.heldOut("p" + i, 0, 0.1), FitRun.heldOut("p" + i, 0, 0.1));
        }
        assertTrue(held > 140 && held < 260, "held out " + held + " of 2000 at 10%");
    }
}
