package io.loupe.tensor;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The safetensors header as both writers make it: one JSON entry per tensor ({@code dtype}, {@code shape},
 * {@code data_offsets} into the data section), an optional {@code __metadata__} map of strings, and the file's prefix
 * (the header's length as a little-endian u64, then the JSON padded with spaces to that length).
 */
final class SafetensorsHeader {
    private SafetensorsHeader() {
    }

    /** A tensor's entry: its bytes are {@code [begin, end)} of the data section. */
    static JsonObject entry(TensorDtype dtype, long[] shape, long begin, long end) {
        JsonObject info = new JsonObject();
        info.addProperty("dtype", dtype.name());
        JsonArray dims = new JsonArray();
        for (long d : shape) {
            dims.add(d);
        }
        info.add("shape", dims);
        JsonArray offsets = new JsonArray();
        offsets.add(begin);
        offsets.add(end);
        info.add("data_offsets", offsets);
        return info;
    }

    /** Adds {@code __metadata__} to the header, unless there is none. */
    static void addMetadata(JsonObject header, Map<String, String> metadata) {
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
    }

    static byte[] json(JsonObject header) {
        return new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
    }

    /** The 8-byte length {@code headerBytes} and the JSON padded with spaces to it, ready to write at offset 0. */
    static ByteBuffer prefix(byte[] json, long headerBytes) {
        ByteBuffer prefix = ByteBuffer.allocate(Math.toIntExact(8 + headerBytes)).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(headerBytes).put(json);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        return prefix.flip();
    }
}
