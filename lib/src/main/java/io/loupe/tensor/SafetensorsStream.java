package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import com.google.gson.Gson;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes one safetensors file as tensors arrive, holding none of them: each tensor's bytes go to a temporary file at
 * once, behind a header region reserved from the tensor names, which are known up front. {@link #finish} writes the
 * header (JSON padded with spaces to the reserved size, which the format allows) and moves the file into place, so a
 * crash or a missing tensor never leaves a file under the final name. Data lie in arrival order; the header gives
 * each tensor's offsets, as the format requires, and readers (safetensors, SafetensorsFile) accept any order that
 * tiles the data section.
 *
 * <p>Why: {@code forward}'s outputs (157 MB for 64 × 256 tokens of the 25M model with two hooks) were copied to the
 * host and written at the end; streaming drops that copy and the end's write, and memory no longer grows with the run.
 */
public final class SafetensorsStream implements TensorSink, AutoCloseable {
    /** Highest rank the reserved header has room for. */
    public static final int MAX_RANK = 6;
    /** {@code :{"dtype":"BF16","shape":[],"data_offsets":[,]},}: the literal characters of one header entry. */
    private static final int ENTRY_LITERALS = 48;
    /** A long's widest decimal form (19 digits) and its comma. */
    private static final int NUMBER = 20;
    /** The largest header the safetensors library reads (its MAX_HEADER_SIZE). */
    private static final long MAX_HEADER = 100_000_000L;

    private final Path out;
    private final Path tmp;
    private final FileChannel channel;
    private final Set<String> expected;
    private final Map<String, String> metadata;
    private final Map<String, JsonObject> header = new TreeMap<>();
    private final long reserved;
    private long offset;
    private boolean finished;
    /** A put failed part-way: the file may hold a partial tensor, so it must never be finished. */
    private boolean failed;

    /**
     * @param names    every tensor the file will hold; {@link #finish} refuses to complete without all of them
     * @param metadata the header's {@code __metadata__} (may be empty)
     */
    public SafetensorsStream(Path out, Collection<String> names, Map<String, String> metadata) throws IOException {
        this.out = out;
        this.expected = new LinkedHashSet<>();
        for (String name : names) {
            if (name.equals("__metadata__") || !expected.add(name)) {
                throw new IllegalArgumentException("tensor name '" + name + "' " + (name.equals("__metadata__") ? "is reserved" : "repeats"));
            }
        }
        this.metadata = new TreeMap<>(metadata);
        this.reserved = reservedHeaderBytes();
        if (reserved > MAX_HEADER) {
            throw new IllegalArgumentException(names.size() + " tensors need a safetensors header of up to " + reserved
                    + " bytes, over the format's " + MAX_HEADER + "; write fewer per file (or use collect, which writes Parquet)");
        }
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        this.tmp = Files.createTempFile(parent, "." + out.getFileName(), ".tmp");
        tmp.toFile().deleteOnExit();   // a run stopped by a signal never reaches close()
        try {
            this.channel = FileChannel.open(tmp, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Writes {@code array}'s bytes now (dtype kept; little-endian, as on every supported host). */
    @Override
    public void put(String name, NDArray array) {
        if (finished) {
            throw new IllegalStateException("stream to " + out + " is finished");
        }
        if (!expected.contains(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was not among the names given for " + out);
        }
        if (header.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        long[] shape = array.getShape().getShape();
        if (shape.length > MAX_RANK) {
            throw new IllegalArgumentException("tensor '" + name + "' has rank " + shape.length + "; at most " + MAX_RANK);
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("big-endian hosts are not supported");
        }
        TensorDtype dtype = TensorDtype.of(array.getDataType());
        // A direct view of the tensor's memory when it is contiguous on the CPU (a contiguous copy otherwise), written
        // while the array is alive.
        ByteBuffer bytes = array.toByteBuffer(true);
        long len = bytes.remaining();
        try {
            long at = 8 + reserved + offset;
            while (bytes.hasRemaining()) {
                at += channel.write(bytes, at);
            }
        } catch (IOException e) {
            failed = true;
            throw new UncheckedIOException("writing " + name + " to " + tmp, e);
        }
        header.put(name, SafetensorsHeader.entry(dtype, shape, offset, offset + len));
        offset += len;
    }

    /** Writes the header and moves the file into place; fails, leaving nothing under the final name, if a tensor is missing. */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        if (failed) {
            throw new IllegalStateException("a tensor failed to write to " + tmp + "; " + out + " is not written");
        }
        if (header.size() != expected.size()) {
            Set<String> missing = new LinkedHashSet<>(expected);
            missing.removeAll(header.keySet());
            throw new IllegalStateException(out + " would miss " + missing.size() + " tensors, e.g. " + missing.iterator().next());
        }
        JsonObject root = new JsonObject();
        header.forEach(root::add);
        SafetensorsHeader.addMetadata(root, metadata);
        byte[] json = SafetensorsHeader.json(root);
        if (json.length > reserved) {
            throw new IllegalStateException("safetensors header of " + json.length + " bytes exceeds the " + reserved + " reserved");
        }
        ByteBuffer prefix = SafetensorsHeader.prefix(json, reserved);
        long at = 0;
        while (prefix.hasRemaining()) {
            at += channel.write(prefix, at);
        }
        channel.close();
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        finished = true;
    }

    /** Without {@link #finish}: discards the temporary file. */
    @Override
    public void close() throws IOException {
        if (!finished) {
            channel.close();
            Files.deleteIfExists(tmp);
        }
    }

    /** An upper bound on the header's JSON from the names alone: every shape of MAX_RANK and every number 19 digits wide. */
    private long reservedHeaderBytes() {
        Gson gson = new Gson();
        JsonObject metadataOnly = new JsonObject();
        SafetensorsHeader.addMetadata(metadataOnly, metadata);
        long bytes = SafetensorsHeader.json(metadataOnly).length + 1;   // {...} and the comma before the metadata
        for (String name : expected) {
            bytes += gson.toJson(name).getBytes(StandardCharsets.UTF_8).length + ENTRY_LITERALS + (MAX_RANK + 2L) * NUMBER;
        }
        return (bytes + 7) / 8 * 8;
    }
}
