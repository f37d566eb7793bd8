package io.loupe.cli;

/** Progress and summary lines, on stderr so that stdout stays clean for results. */
final class Console {
    private Console() {
    }

    static void info(String line) {
        System.err.println("[loupe] " + line);
    }
}
