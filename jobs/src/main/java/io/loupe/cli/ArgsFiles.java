package io.loupe.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command lines with {@code @file} arguments where the last occurrence of an option wins, for list options too
 * ({@code scripts/loupe fit @conf/fit.conf --k 8} runs k = 8, not the file's values and 8: picocli would append).
 * An {@code @file} holds options one or more per line, {@code #} starts a comment line, double quotes keep a value
 * with spaces together.
 */
final class ArgsFiles {
    private ArgsFiles() {
    }

    static String[] resolve(CommandLine root, String... args) {
        List<String> tokens = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("@") && a.length() > 1 && Files.isRegularFile(Path.of(a.substring(1)))) {
                tokens.addAll(read(Path.of(a.substring(1))));
            } else {
                tokens.add(a);
            }
        }
        CommandSpec spec = root.getCommandSpec();
        int i = 0;
        while (i < tokens.size() && spec.subcommands().containsKey(tokens.get(i))) {
            spec = spec.subcommands().get(tokens.get(i)).getCommandSpec();
            i++;
        }
        List<String> head = new ArrayList<>(tokens.subList(0, i));
        Map<String, List<String>> options = new LinkedHashMap<>();   // canonical option name -> its tokens, last occurrence kept
        List<String> rest = new ArrayList<>();
        while (i < tokens.size()) {
            String t = tokens.get(i);
            String name = t.contains("=") ? t.substring(0, t.indexOf('=')) : t;
            OptionSpec o = t.startsWith("-") ? spec.findOption(name) : null;
            if (o == null) {
                rest.add(t);
                i++;
                continue;
            }
            boolean flag = o.arity().max() == 0 || (o.type() == boolean.class || o.type() == Boolean.class) && !t.contains("=");
            int take = t.contains("=") || flag ? 1 : Math.min(2, tokens.size() - i);
            options.remove(o.longestName());
            options.put(o.longestName(), new ArrayList<>(tokens.subList(i, i + take)));
            i += take;
        }
        options.values().forEach(head::addAll);
        head.addAll(rest);
        return head.toArray(String[]::new);
    }

    /** Whitespace-separated tokens of the non-comment lines; double quotes group. */
    static List<String> read(Path file) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String s = line.strip();
                if (s.isEmpty() || s.startsWith("#")) {
                    continue;
                }
                StringBuilder cur = new StringBuilder();
                boolean quoted = false, any = false;
                for (char c : s.toCharArray()) {
                    if (c == '"') {
                        quoted = !quoted;
                        any = true;
                    } else if (Character.isWhitespace(c) && !quoted) {
                        if (cur.length() > 0 || any) {
                            out.add(cur.toString());
                        }
                        cur.setLength(0);
                        any = false;
                    } else {
                        cur.append(c);
                    }
                }
                if (cur.length() > 0 || any) {
                    out.add(cur.toString());
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read options file " + file + ": " + e.getMessage());
        }
        return out;
    }
}
