package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects host tensors and writes them as one safetensors file, names sorted, header padded to 8 bytes
 * (the layout of the reference implementation). The file is written to a temporary name and moved into
 * place, so a crash never leaves a truncated file under the final name.
 */
public final class SafetensorsWriter {
    /** A tensor held on the host: dtype, shape and little-endian bytes. */
    public record HostTensor(TensorDtype dtype, long[] shape, ByteBuffer data) {
        /** Copies an NDArray (any device) to the host, keeping its dtype; the copy outlives the array. */
        public static HostTensor of(NDArray array) {
            // toByteBuffer may alias native memory that is freed with the array's manager: copy it out.
            ByteBuffer view = array.toByteBuffer().order(ByteOrder.nativeOrder());
            ByteBuffer bytes = ByteBuffer.allocate(view.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
                bytes.put(view).flip();
            } else {
                throw new UnsupportedOperationException("big-endian hosts are not supported");
            }
            return new HostTensor(TensorDtype.of(array.getDataType()), array.getShape().getShape(), bytes);
        }

        /** Copies an NDArray to the host stored as {@code dtype} (F32, F16 or BF16). */
        public static HostTensor of(NDArray array, TensorDtype dtype) {
            if (dtype == TensorDtype.BF16) {
                HostTensor f32 = of(array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, false));
                return new HostTensor(TensorDtype.BF16, f32.shape(), Bfloat16.fromFloat32(f32.data()));
            }
            return of(array.getDataType() == dtype.djl() ? array : array.toType(dtype.djl(), false));
        }

        public static HostTensor ofFloats(float[] values, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new HostTensor(TensorDtype.F32, shape, b);
        }
    }

    private final Map<String, HostTensor> tensors = new TreeMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    public SafetensorsWriter put(String name, HostTensor tensor) {
        if (tensors.putIfAbsent(name, tensor) != null) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        return this;
    }

    public SafetensorsWriter put(String name, NDArray array) {
        return put(name, HostTensor.of(array));
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public int size() {
        return tensors.size();
    }

    public void write(Path path) throws IOException {
        JsonObject header = new JsonObject();
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            HostTensor t = e.getValue();
            long len = t.data().remaining();
            header.add(e.getKey(), SafetensorsHeader.entry(t.dtype(), t.shape(), offset, offset + len));
            offset += len;
        }
        SafetensorsHeader.addMetadata(header, metadata);
        byte[] json = SafetensorsHeader.json(header);
        ByteBuffer prefix = SafetensorsHeader.prefix(json, (json.length + 7) / 8 * 8);

        Path parent = path.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, "." + path.getFileName(), ".tmp");
        // A file channel writes each tensor in one call; a channel over an OutputStream goes through 8 KB chunks
        // (157 MB took 0.6 s that way, against 0.27 s for numpy).
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.write(prefix);
            for (HostTensor t : tensors.values()) {
                ByteBuffer d = t.data().duplicate();
                while (d.hasRemaining()) {
                    ch.write(d);
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
