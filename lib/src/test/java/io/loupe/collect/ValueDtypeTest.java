package io.loupe.collect;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ValueDtypeTest {
    @Test
    void encodesRowsLittleEndianAndDecodesBack() {
        float[] v = {1f, -2f, 0.5f, 3.25f, -0.125f, 65504f};
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            var rows = m.create(v, new Shape(2, 3));
            for (ValueDtype d : ValueDtype.values()) {
                byte[][] enc = d.encodeRows(rows);
                assertEquals(2, enc.length);
                assertEquals(3 * d.bytes(), enc[0].length);
                float[] back = new float[6];
                System.arraycopy(d.decode(enc[0]), 0, back, 0, 3);
                System.arraycopy(d.decode(enc[1]), 0, back, 3, 3);
                if (d == ValueDtype.BFLOAT16) {
                    assertEquals(65536f, back[5]);       // 65504 rounds to 2^16 in bfloat16's 8-bit mantissa
                    back[5] = 65504f;
                }
                assertArrayEquals(v, back, d.name());
            }
            assertArrayEquals(new byte[]{0, 0, (byte) 0x80, 0x3F}, ValueDtype.FLOAT32.encodeRows(m.create(new float[]{1f}, new Shape(1, 1)))[0]);
            assertArrayEquals(new byte[]{(byte) 0x80, 0x3F}, ValueDtype.BFLOAT16.encodeRows(m.create(new float[]{1f}, new Shape(1, 1)))[0]);
            assertArrayEquals(new byte[]{0, 0x3C}, ValueDtype.FLOAT16.encodeRows(m.create(new float[]{1f}, new Shape(1, 1)))[0]);
        }
        assertEquals(ValueDtype.BFLOAT16, ValueDtype.parse("bf16"));
        assertThrows(IllegalArgumentException.class, () -> ValueDtype.parse("int8"));
    }
}
