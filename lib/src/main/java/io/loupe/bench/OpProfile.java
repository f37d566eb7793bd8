package io.loupe.bench;

import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a piece of libtorch work spends its time, by operator: the work runs under libtorch's profiler (DJL's
 * {@code JniUtils.startProfile}), which writes a Chrome trace (open it in chrome://tracing or ui.perfetto.dev), and
 * {@link #topLevel} sums the time of the top-level operators, those not called from inside another on the same thread,
 * so every microsecond counts once ({@code aten::softmax} includes the kernels it calls; they are not counted again).
 *
 * <p>The profiler records operators on the calling thread only, and adds a little time to each: shares are what to
 * read, not absolute times. Operators here are libtorch's: a linear layer and attention's products both appear as
 * {@code aten::matmul}.
 */
public final class OpProfile {
    /** One operator's top-level calls: their total and median time. */
    public record OpTime(String op, double millis, int calls, double medianMillis) {
    }

    private OpProfile() {
    }

    /** Runs {@code work} on this thread under libtorch's profiler, writes the trace to {@code trace} and sums it. */
    public static List<OpTime> profile(Runnable work, Path trace) throws IOException {
        Files.createDirectories(trace.toAbsolutePath().getParent());
        JniUtils.startProfile(false, false, false);
        try {
            work.run();
        } finally {
            JniUtils.stopProfile(trace.toString());
        }
        try (Reader in = Files.newBufferedReader(trace)) {
            return topLevel(in);
        }
    }

    /**
     * Total time per operator over the top-level complete events ({@code "ph": "X"}) of a Chrome trace, a bare event
     * array or an object with {@code traceEvents}: on each thread, an event that starts inside an earlier one is nested
     * in it and not counted. Sorted by total time, largest first.
     */
    public static List<OpTime> topLevel(Reader traceJson) {
        JsonElement root = JsonParser.parseReader(traceJson);
        JsonArray events = root.isJsonArray() ? root.getAsJsonArray() : root.getAsJsonObject().getAsJsonArray("traceEvents");
        record Event(String name, String thread, double start, double duration) {
            double end() {
                return start + duration;
            }
        }
        List<Event> complete = new ArrayList<>();
        for (JsonElement e : events) {
            JsonObject o = e.getAsJsonObject();
            if (o.has("ph") && o.get("ph").getAsString().equals("X")) {
                complete.add(new Event(o.get("name").getAsString(), o.has("tid") ? o.get("tid").getAsString() : "",
                        o.get("ts").getAsDouble(), o.has("dur") ? o.get("dur").getAsDouble() : 0));
            }
        }
        // Per thread by start; of two that start together the longer is the outer one.
        complete.sort(Comparator.comparing(Event::thread).thenComparingDouble(Event::start).thenComparing(Comparator.comparingDouble(Event::duration).reversed()));
        Map<String, List<Double>> byOp = new LinkedHashMap<>();
        Deque<Event> open = new ArrayDeque<>();
        for (Event e : complete) {
            while (!open.isEmpty() && (!open.peek().thread().equals(e.thread()) || open.peek().end() <= e.start())) {
                open.pop();
            }
            if (open.isEmpty()) {
                byOp.computeIfAbsent(e.name(), k -> new ArrayList<>()).add(e.duration() / 1000);
            }
            open.push(e);
        }
        List<OpTime> out = new ArrayList<>();
        byOp.forEach((op, ms) -> {
            double[] sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int n = sorted.length;
            double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
            out.add(new OpTime(op, ms.stream().mapToDouble(Double::doubleValue).sum(), n, median));
        });
        out.sort(Comparator.comparingDouble(OpTime::millis).reversed());
        return out;
    }
}
