package io.loupe.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code conf/*.conf} names the command it is for ({@code scripts/loupe fit @conf/fit.conf}) and Loupe's own
 * parser accepts it for that command: an option renamed or removed fails here, not in a user's terminal.
 */
class ConfFilesTest {
    private static final Pattern USAGE = Pattern.compile("scripts/loupe ([a-z0-9-]+(?: [a-z]+)?) @conf/([a-z0-9-]+\\.conf)");

    @Test
    void everyConfFileParsesForItsCommand() throws IOException {
        Path conf = Path.of("..", "conf");
        List<Path> files;
        try (Stream<Path> s = Files.list(conf)) {
            files = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no conf files under " + conf.toAbsolutePath());
        for (Path f : files) {
            Matcher m = USAGE.matcher(Files.readString(f));
            boolean named = false;
            while (m.find()) {
                if (m.group(2).equals(f.getFileName().toString())) {
                    named = true;
                    List<String> args = new ArrayList<>(List.of(m.group(1).split(" ")));
                    args.add("@" + f);
                    try {
                        Loupe.commandLine().parseArgs(args.toArray(String[]::new));
                    } catch (CommandLine.ParameterException e) {
                        throw new AssertionError(f + ": `loupe " + m.group(1) + "` refuses it: " + e.getMessage(), e);
                    }
                    break;
                }
            }
            assertTrue(named, f + " does not say which command reads it (a comment `scripts/loupe <command> @conf/" + f.getFileName() + "`)");
        }
    }
}
