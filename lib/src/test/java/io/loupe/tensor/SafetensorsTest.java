package io.loupe.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {

    @Test
    void roundTripsFloatsShapesAndMetadata(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .put("b", SafetensorsWriter.HostTensor.ofFloats(new float[]{1, 2, 3, 4, 5, 6}, 2, 3))
                .put("a", SafetensorsWriter.HostTensor.ofFloats(new float[]{-1.5f}, 1))
                .metadata("model", "x")
                .write(f);
        byte[] raw = Files.readAllBytes(f);
        long headerLen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes");
        SafetensorsFile s = SafetensorsFile.open(f);
        assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(s.entries().keySet()));
        assertArrayEquals(new long[]{2, 3}, s.entry("b").shape());
        assertEquals("x", s.metadata().get("model"));
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, s.load(m, "b", DataType.FLOAT32).toFloatArray());
        }
    }

    @Test
    void decodesHalfAndBfloat16Exactly(@TempDir Path dir) throws IOException {
        // bf16: 0x3F80 = 1.0, 0xC000 = -2.0, 0x3EAA = 0.33203125; f16: 0x3C00 = 1.0, 0xC000 = -2.0, 0x3555 = 0.333251953125
        Path f = dir.resolve("h.safetensors");
        new SafetensorsWriter()
                .put("bf", new SafetensorsWriter.HostTensor(TensorDtype.BF16, new long[]{3}, shorts(0x3F80, 0xC000, 0x3EAA)))
                .put("hf", new SafetensorsWriter.HostTensor(TensorDtype.F16, new long[]{3}, shorts(0x3C00, 0xC000, 0x3555)))
                .write(f);
        SafetensorsFile s = SafetensorsFile.open(f);
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            assertArrayEquals(new float[]{1f, -2f, 0.33203125f}, s.load(m, "bf", DataType.FLOAT32).toFloatArray());
            assertArrayEquals(new float[]{1f, -2f, 0.333251953125f}, s.load(m, "hf", DataType.FLOAT32).toFloatArray());
        }
    }

    @Test
    void rejectsCorruptHeadersAndBadOffsets(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, header("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 16));
        assertTrue(assertThrows(InvalidTensorFileException.class, () -> SafetensorsFile.open(f)).getMessage().contains("'x' has 12 bytes"));
        Files.write(f, header("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8));
        assertTrue(assertThrows(InvalidTensorFileException.class, () -> SafetensorsFile.open(f)).getMessage().contains("truncated"));
        Files.write(f, header("{\"x\":{\"dtype\":\"Q4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 8));
        assertTrue(assertThrows(InvalidTensorFileException.class, () -> SafetensorsFile.open(f)).getMessage().contains("Q4"));
        Files.write(f, header("not json", 0));
        assertTrue(assertThrows(InvalidTensorFileException.class, () -> SafetensorsFile.open(f)).getMessage().contains("corrupt"));
    }

    @Test
    void bfloat16RoundsToNearestEvenAndKeepsNaN() {
        assertEquals((short) 0x3F80, Bfloat16.round(1.0f));
        assertEquals((short) 0x3F80, Bfloat16.round(Float.intBitsToFloat(0x3F808000)));   // tie, even stays
        assertEquals((short) 0x3F82, Bfloat16.round(Float.intBitsToFloat(0x3F818000)));   // tie, odd rounds up
        assertEquals((short) 0x3F81, Bfloat16.round(Float.intBitsToFloat(0x3F808001)));   // above half
        assertEquals((short) 0xFF80, Bfloat16.round(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(Float.intBitsToFloat(Bfloat16.round(Float.NaN) << 16)));
        ByteBuffer f32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.33203125f).putFloat(-2f).flip();
        ByteBuffer back = Bfloat16.toFloat32(Bfloat16.fromFloat32(f32));
        assertEquals(0.33203125f, back.getFloat(0));
        assertEquals(-2f, back.getFloat(4));
    }

    private static ByteBuffer shorts(int... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putShort((short) x);
        }
        return b.flip();
    }

    private static byte[] header(String json, int dataBytes) {
        byte[] h = json.getBytes();
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }
}
