package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file opened for reading: an 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}}, then the data.
 * Opening validates the header against the file size, so a truncated file fails here with its name,
 * not later with garbage. Tensors are read through a memory map, one at a time.
 */
public final class SafetensorsFile {
    private static final long MAX_HEADER = 100L << 20;

    /** One tensor's header entry; offsets are relative to the start of the data section. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final Path path;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Reads and checks the header of {@code path}. */
    public static SafetensorsFile open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new InvalidTensorFileException(path + ": no such safetensors file");
        }
        long size = Files.size(path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            if (size < 8) {
                throw new InvalidTensorFileException(path + ": truncated safetensors file (" + size + " bytes, no header)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new InvalidTensorFileException(path + ": truncated or corrupt safetensors file (header length "
                        + headerLen + ", file size " + size + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            ch.read(header, 8);
            String json = new String(header.array(), StandardCharsets.UTF_8);
            long dataStart = 8 + headerLen;
            return parse(path, json, dataStart, size - dataStart);
        }
    }

    private static SafetensorsFile parse(Path path, String json, long dataStart, long dataSize) {
        JsonObject root;
        try {
            root = JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new InvalidTensorFileException(path + ": corrupt safetensors header (" + e.getMessage() + ")");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            JsonObject v = e.getValue().getAsJsonObject();
            if (e.getKey().equals("__metadata__")) {
                v.entrySet().forEach(m -> metadata.put(m.getKey(), m.getValue().getAsString()));
                continue;
            }
            String dtype = v.get("dtype").getAsString();
            long[] shape = new long[v.getAsJsonArray("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = v.getAsJsonArray("shape").get(i).getAsLong();
            }
            long begin = v.getAsJsonArray("data_offsets").get(0).getAsLong();
            long end = v.getAsJsonArray("data_offsets").get(1).getAsLong();
            Entry entry = new Entry(e.getKey(), dtype, shape, begin, end);
            if (end > dataSize) {
                throw new InvalidTensorFileException(path + ": truncated safetensors file: tensor '" + e.getKey()
                        + "' ends at byte " + end + " of the data section, which has only " + dataSize + " bytes");
            }
            if (begin < 0 || end - begin != entry.numel() * TensorDtype.parse(dtype, path).bytes()) {
                throw new InvalidTensorFileException(path + ": tensor '" + e.getKey() + "' has " + (end - begin)
                        + " bytes for shape " + new Shape(shape) + " of " + dtype);
            }
            entries.put(e.getKey(), entry);
        }
        return new SafetensorsFile(path, dataStart, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    public Path path() {
        return path;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The raw little-endian bytes of one tensor. */
    public ByteBuffer bytes(String name) throws IOException {
        Entry e = entry(name);
        long len = e.end() - e.begin();
        if (len > Integer.MAX_VALUE) {
            throw new InvalidTensorFileException(path + ": tensor '" + name + "' is over 2 GiB; split it across shards");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), len).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Loads one tensor into {@code manager}, converted to {@code target} (F16/BF16 widen exactly to F32). */
    public NDArray load(NDManager manager, String name, DataType target) throws IOException {
        Entry e = entry(name);
        ByteBuffer buf = bytes(name);
        Shape shape = new Shape(e.shape());
        DataType source = TensorDtype.parse(e.dtype(), path).djl();
        ByteBuffer staging;
        if (source == DataType.BFLOAT16) {
            staging = Bfloat16.toFloat32(buf);
            source = DataType.FLOAT32;
        } else {
            staging = ByteBuffer.allocateDirect(buf.remaining()).order(ByteOrder.nativeOrder());
            staging.put(buf).flip();
        }
        // DJL wraps a direct buffer without copying, and the GC frees that buffer once it is unreachable:
        // copy into memory libtorch owns (a fresh tensor) while the staging buffer is still held here.
        try (NDArray view = manager.create(staging, shape, source)) {
            NDArray owned = source == target ? manager.zeros(shape, target).addi(view) : view.toType(target, false);
            java.lang.ref.Reference.reachabilityFence(staging);
            return owned;
        }
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new InvalidTensorFileException(path + ": no tensor named '" + name + "'");
        }
        return e;
    }
}
