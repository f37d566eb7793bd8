package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsStreamTest {
    private static final String ODD = "p\"<1>\u00e9.blocks.0.hook_resid_post";

    @Test
    void tensorsPutInAnyOrderReadBackWithTheirShapesTypesAndMetadata(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("o.safetensors");
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu());
             SafetensorsStream s = new SafetensorsStream(out, List.of("b", "a", ODD, "empty", "ids"), Map.of("model", "x"))) {
            s.put(ODD, m.create(new float[]{1, 2, 3, 4, 5, 6}, new Shape(2, 3)));
            s.put("a", m.create(new float[]{0.5f, -2}).toType(DataType.FLOAT16, false));
            s.put("ids", m.create(new long[]{7, 8, 9}));
            s.put("empty", m.zeros(new Shape(0, 4)));
            // a strided view: written as its logical (row-major) values
            s.put("b", m.create(new float[]{1, 2, 3, 4, 5, 6}, new Shape(2, 3)).transpose(1, 0));
            s.finish();
        }
        SafetensorsFile f = SafetensorsFile.open(out);
        assertEquals(Map.of("model", "x"), f.metadata());
        assertArrayEquals(new long[]{2, 3}, f.entry(ODD).shape());
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, floats(f.bytes(ODD)));
        assertEquals("F16", f.entry("a").dtype());
        assertEquals("I64", f.entry("ids").dtype());
        assertEquals(8, f.bytes("ids").order(ByteOrder.LITTLE_ENDIAN).getLong(8));
        assertArrayEquals(new long[]{0, 4}, f.entry("empty").shape());
        assertArrayEquals(new long[]{3, 2}, f.entry("b").shape());
        assertArrayEquals(new float[]{1, 4, 2, 5, 3, 6}, floats(f.bytes("b")));
        // the header length is a multiple of 8 and the data section is exactly the tensors, tiled without gaps
        long headerLen;
        try (FileChannel ch = FileChannel.open(out)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            headerLen = len.flip().getLong();
        }
        assertEquals(0, headerLen % 8);
        long data = f.entries().values().stream().mapToLong(e -> e.end() - e.begin()).sum();
        assertEquals(Files.size(out), 8 + headerLen + data);
        assertEquals(data, f.entries().values().stream().mapToLong(SafetensorsFile.Entry::end).max().orElseThrow());
    }

    @Test
    void aMissingTensorLeavesTheEarlierFileAndNoTemporaryOne(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("o.safetensors");
        Files.writeString(out, "an earlier run's complete output");
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu());
             SafetensorsStream s = new SafetensorsStream(out, List.of("a", "b"), Map.of())) {
            s.put("a", m.ones(new Shape(2)));
            IllegalStateException e = assertThrows(IllegalStateException.class, s::finish);
            assertTrue(e.getMessage().contains("miss 1 tensors, e.g. b"), e.getMessage());
        }
        assertEquals("an earlier run's complete output", Files.readString(out));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(out), files.toList());
        }
    }

    @Test
    void unknownRepeatedAndTooHighRankTensorsAreRefused(@TempDir Path dir) throws IOException {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu());
             SafetensorsStream s = new SafetensorsStream(dir.resolve("o.safetensors"), List.of("a", "deep"), Map.of())) {
            assertThrows(IllegalArgumentException.class, () -> s.put("c", m.ones(new Shape(1))));
            s.put("a", m.ones(new Shape(1)));
            assertThrows(IllegalArgumentException.class, () -> s.put("a", m.ones(new Shape(1))));
            assertThrows(IllegalArgumentException.class, () -> s.put("deep", m.ones(new Shape(1, 1, 1, 1, 1, 1, 1))));
        }
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsStream(dir.resolve("p"), List.of("a", "a"), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsStream(dir.resolve("p"), List.of("__metadata__"), Map.of()));
        // ~230 bytes of header room per tensor: 500,000 tensors pass the format's 100 MB header limit, refused up front
        List<String> many = java.util.stream.IntStream.range(0, 500_000).mapToObj(i -> "prompt" + i + ".logits").toList();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SafetensorsStream(dir.resolve("q"), many, Map.of()));
        assertTrue(e.getMessage().contains("over the format's 100000000"), e.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "closing without finish leaves nothing");
        }
    }

    private static float[] floats(ByteBuffer b) {
        float[] out = new float[b.remaining() / 4];
        b.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
