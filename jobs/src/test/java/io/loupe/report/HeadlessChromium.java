package io.loupe.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Assumptions;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens a page in Debian's headless Chromium over the DevTools protocol (the JDK's WebSocket client, no driver) and
 * returns a screenshot and every error the page logged: uncaught exceptions, {@code console.error}, and the browser's
 * own error entries (failed loads). Tests that use it skip, saying why, where no Chromium is installed
 * ({@code apt-get install chromium}; {@code LOUPE_CHROMIUM} names another binary).
 */
public final class HeadlessChromium {
    /** What a page showed and logged. */
    public record Page(BufferedImage screenshot, List<String> errors) {
        /** Pixels that differ from the top-left (background) pixel, as a fraction of all. */
        public double inkFraction() {
            int bg = screenshot.getRGB(0, 0), ink = 0;
            for (int y = 0; y < screenshot.getHeight(); y++) {
                for (int x = 0; x < screenshot.getWidth(); x++) {
                    ink += screenshot.getRGB(x, y) != bg ? 1 : 0;
                }
            }
            return ink / (double) (screenshot.getWidth() * screenshot.getHeight());
        }
    }

    private HeadlessChromium() {
    }

    /** The Chromium binary, or the test is skipped with the reason. */
    public static String binaryOrSkip() {
        String env = System.getenv("LOUPE_CHROMIUM");
        for (String c : new String[]{env, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
            if (c != null && Files.isExecutable(Path.of(c))) {
                return c;
            }
        }
        Assumptions.abort("no Chromium: install Debian's chromium (apt-get install chromium) or set LOUPE_CHROMIUM; skipping the browser check");
        return null;
    }

    /** Loads {@code file} in a fresh headless browser, waits for its load event and a moment for its scripts, and shoots it. */
    public static Page open(Path file, int width, int height) throws Exception {
        String binary = binaryOrSkip();
        Path profile = Files.createTempDirectory("loupe-chromium-");
        // The flags a closed network needs (no background connections) and a root user needs (no sandbox).
        Process p = new ProcessBuilder(binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=" + width + "," + height, "about:blank")
                .redirectErrorStream(true).start();
        try {
            int port = devToolsPort(p);
            HttpClient http = HttpClient.newHttpClient();
            String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            String ws = null;
            for (var t : JsonParser.parseString(list).getAsJsonArray()) {
                if (t.getAsJsonObject().get("type").getAsString().equals("page")) {
                    ws = t.getAsJsonObject().get("webSocketDebuggerUrl").getAsString();
                }
            }
            if (ws == null) {
                throw new IOException("chromium opened no page: " + list);
            }
            try (Session s = new Session(http, ws)) {
                s.call("Runtime.enable", new JsonObject());
                s.call("Log.enable", new JsonObject());
                s.call("Page.enable", new JsonObject());
                JsonObject nav = new JsonObject();
                nav.addProperty("url", file.toUri().toString());
                s.call("Page.navigate", nav);
                s.loaded.get(30, TimeUnit.SECONDS);
                Thread.sleep(300);   // the page's load listener runs after the event
                JsonObject shot = new JsonObject();
                shot.addProperty("format", "png");
                String png = s.call("Page.captureScreenshot", shot).get("data").getAsString();
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(png)));
                return new Page(img, List.copyOf(s.errors));
            }
        } finally {
            // Chromium's helper processes (renderer, crashpad) outlive the main one and write to the profile: end them too.
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            deleteBestEffort(profile);
        }
    }

    /** Removes a temporary profile; a file that vanishes meanwhile (a helper process still exiting) is not an error. */
    private static void deleteBestEffort(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException e) {
            // what is left is in the temporary directory; the page was already shot
        }
    }

    /** Chromium prints "DevTools listening on ws://127.0.0.1:PORT/..." once it is ready. */
    private static int devToolsPort(Process p) throws Exception {
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Integer> port = CompletableFuture.supplyAsync(() -> {
            Pattern listening = Pattern.compile("DevTools listening on ws://[^:]+:(\\d+)/");
            StringBuilder seen = new StringBuilder();
            try {
                for (String line; (line = err.readLine()) != null; ) {
                    Matcher m = listening.matcher(line);
                    if (m.find()) {
                        Thread drain = new Thread(() -> {
                            try {
                                while (err.readLine() != null) {
                                    // keep the pipe from filling
                                }
                            } catch (IOException ignored) {
                                // the process ended
                            }
                        });
                        drain.setDaemon(true);
                        drain.start();
                        return Integer.parseInt(m.group(1));
                    }
                    seen.append(line).append('\n');
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
            throw new IllegalStateException("chromium exited before DevTools listened:\n" + seen);
        });
        return port.get(60, TimeUnit.SECONDS);
    }

    /** One DevTools WebSocket: numbered calls answered by id, events gathered as errors or the load signal. */
    private static final class Session implements WebSocket.Listener, AutoCloseable {
        final List<String> errors = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> loaded = new CompletableFuture<>();
        private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
        private final AtomicInteger ids = new AtomicInteger();
        private final StringBuilder partial = new StringBuilder();
        private final WebSocket socket;

        Session(HttpClient http, String url) throws Exception {
            socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(20)).buildAsync(URI.create(url), this).get(30, TimeUnit.SECONDS);
        }

        JsonObject call(String method, JsonObject params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonObject> answer = new CompletableFuture<>();
            pending.put(id, answer);
            JsonObject msg = new JsonObject();
            msg.addProperty("id", id);
            msg.addProperty("method", method);
            msg.add("params", params);
            socket.sendText(msg.toString(), true).get(10, TimeUnit.SECONDS);
            JsonObject r = answer.get(30, TimeUnit.SECONDS);
            if (r.has("error")) {
                throw new IOException(method + ": " + r.get("error"));
            }
            return r.getAsJsonObject("result");
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                JsonObject m = JsonParser.parseString(partial.toString()).getAsJsonObject();
                partial.setLength(0);
                if (m.has("id")) {
                    CompletableFuture<JsonObject> f = pending.remove(m.get("id").getAsInt());
                    if (f != null) {
                        f.complete(m);
                    }
                } else {
                    event(m.get("method").getAsString(), m.getAsJsonObject("params"));
                }
            }
            ws.request(1);
            return null;
        }

        private void event(String method, JsonObject params) {
            switch (method) {
                case "Page.loadEventFired" -> loaded.complete(null);
                case "Runtime.exceptionThrown" -> errors.add("exception: " + params.getAsJsonObject("exceptionDetails"));
                case "Runtime.consoleAPICalled" -> {
                    String type = params.get("type").getAsString();
                    if (type.equals("error") || type.equals("assert")) {
                        JsonArray args = params.getAsJsonArray("args");
                        errors.add("console." + type + ": " + (args.isEmpty() ? "" : args.get(0).getAsJsonObject().get("value")));
                    }
                }
                case "Log.entryAdded" -> {
                    JsonObject e = params.getAsJsonObject("entry");
                    if (e.get("level").getAsString().equals("error")) {
                        errors.add("log: " + e.get("text").getAsString() + (e.has("url") ? " (" + e.get("url").getAsString() + ")" : ""));
                    }
                }
                default -> {
                }
            }
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }

        @Override
        public void close() {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
    }

    /** A list of a page's errors, one per line, for assertion messages. */
    public static String describe(List<String> errors) {
        return errors.isEmpty() ? "none" : String.join("\n", new ArrayList<>(errors));
    }
}
