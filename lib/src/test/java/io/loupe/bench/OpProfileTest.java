package io.loupe.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpProfileTest {
    private static String event(String name, int tid, double ts, double dur) {
        return String.format("{\"name\": \"%s\", \"ph\": \"X\", \"ts\": %s, \"dur\": %s, \"tid\": %d, \"pid\": \"CPU Functions\", \"args\": {}}", name, ts, dur, tid);
    }

    @Test
    void countsEachMicrosecondOnceAtTheTopLevel() {
        // Thread 1: a [0, 100) holds b [10, 30); c [100, 150) starts as a ends, so it is top-level, and holds d, which
        // starts with it but is shorter; a again [200, 260). Thread 2: b [5, 15), top-level there although it overlaps a.
        // An instant event ("i") is no operator.
        String trace = "[" + String.join(",\n", event("a", 1, 0, 100), event("b", 1, 10, 20), event("d", 1, 100, 20),
                event("c", 1, 100, 50), event("a", 1, 200, 60), event("b", 2, 5, 10),
                "{\"name\": \"mark\", \"ph\": \"i\", \"ts\": 1, \"tid\": 1}") + "]";
        List<OpProfile.OpTime> ops = OpProfile.topLevel(new StringReader(trace));
        assertEquals(List.of("a", "c", "b"), ops.stream().map(OpProfile.OpTime::op).toList());
        assertEquals(new OpProfile.OpTime("a", 0.16, 2, 0.08), round(ops.get(0)));
        assertEquals(new OpProfile.OpTime("c", 0.05, 1, 0.05), round(ops.get(1)));
        assertEquals(new OpProfile.OpTime("b", 0.01, 1, 0.01), round(ops.get(2)));
        // The object form Chrome also reads gives the same; an empty trace gives nothing.
        assertEquals(ops, OpProfile.topLevel(new StringReader("{\"traceEvents\": " + trace + "}")));
        assertEquals(List.of(), OpProfile.topLevel(new StringReader("[]")));
    }

    private static OpProfile.OpTime round(OpProfile.OpTime t) {
        return new OpProfile.OpTime(t.op(), Math.round(t.millis() * 1e6) / 1e6, t.calls(), Math.round(t.medianMillis() * 1e6) / 1e6);
    }

    @Test
    void profilesLibtorchWorkOnThisThread(@TempDir Path dir) throws Exception {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray a = m.ones(new Shape(64, 64));
            Path trace = dir.resolve("sub/trace.json");
            List<OpProfile.OpTime> ops = OpProfile.profile(() -> {
                a.matMul(a).close();
                a.matMul(a).softmax(-1).close();
            }, trace);
            assertTrue(Files.size(trace) > 0, "the trace is written");
            OpProfile.OpTime matmul = ops.stream().filter(o -> o.op().equals("aten::matmul")).findFirst().orElseThrow();
            assertEquals(2, matmul.calls());
            assertEquals(1, ops.stream().filter(o -> o.op().equals("aten::softmax")).findFirst().orElseThrow().calls());
            assertTrue(ops.stream().noneMatch(o -> o.op().equals("aten::mm")), "mm runs inside matmul: not top-level");
        }
    }
}
