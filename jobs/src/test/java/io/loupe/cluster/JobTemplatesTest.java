package io.loupe.cluster;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.cli.Loupe;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job templates in conf/databricks and conf/emr: each parses, names the build's main class and jar, and its
 * Loupe arguments pass Loupe's own command-line parser (an unknown option or a missing required one fails here,
 * not on the cluster).
 */
class JobTemplatesTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void databricksJobsRunLoupesMainClassFromTheShadedJarOnDedicatedSpark35Compute() throws IOException {
        List<Path> files = templates("databricks");
        assertTrue(files.size() >= 2, "a CPU and a GPU job");
        boolean gpu = false;
        for (Path f : files) {
            JsonObject job = read(f);
            for (JsonElement e : job.getAsJsonArray("tasks")) {
                JsonObject task = e.getAsJsonObject();
                JsonObject jar = task.getAsJsonObject("spark_jar_task");
                assertEquals(Loupe.class.getName(), jar.get("main_class_name").getAsString(), f.toString());
                assertLoupeParses(f, strings(jar.getAsJsonArray("parameters")));
                String lib = task.getAsJsonArray("libraries").get(0).getAsJsonObject().get("jar").getAsString();
                assertTrue(lib.startsWith("/Volumes/"), f + ": the jar comes from a Unity Catalog volume");
                assertEquals(shadedJarName(), Path.of(lib).getFileName().toString(), f.toString());
                JsonObject cluster = task.getAsJsonObject("new_cluster");
                String runtime = cluster.get("spark_version").getAsString();
                assertTrue(runtime.startsWith("16.4.x-") && runtime.endsWith("-scala2.12"), f + ": Spark 3.5 / JDK 17 / Scala 2.12 runtime, not " + runtime);
                assertEquals("SINGLE_USER", cluster.get("data_security_mode").getAsString(), f + ": RDDs need dedicated compute");
                JsonObject conf = cluster.getAsJsonObject("spark_conf");
                assertJvmOptions(f, conf.get("spark.driver.extraJavaOptions").getAsString());
                assertJvmOptions(f, conf.get("spark.executor.extraJavaOptions").getAsString());
                if (conf.has("spark.task.resource.gpu.amount")) {
                    gpu = true;
                    assertTrue(cluster.getAsJsonObject("spark_env_vars").has("PYTORCH_LIBRARY_PATH"), f + ": a GPU job names its libtorch");
                }
            }
        }
        assertTrue(gpu, "one Databricks job is the GPU variant");
    }

    @Test
    void emrStepsSubmitTheShadedJarWithLoupesMainClass() throws IOException {
        List<Path> files = templates("emr");
        assertTrue(files.size() >= 2, "CPU and GPU steps");
        boolean gpu = false;
        for (Path f : files) {
            for (JsonElement e : JsonParser.parseString(Files.readString(f)).getAsJsonArray()) {
                JsonObject step = e.getAsJsonObject();
                assertEquals("Spark", step.get("Type").getAsString(), f.toString());
                List<String> args = strings(step.getAsJsonArray("Args"));
                int jar = -1;
                for (int i = 0; i < args.size(); i++) {
                    String a = args.get(i);
                    if (a.equals("--class")) {
                        assertEquals(Loupe.class.getName(), args.get(i + 1), f.toString());
                    }
                    if (a.equals("--conf")) {
                        String c = args.get(i + 1);
                        if (c.startsWith("spark.driver.extraJavaOptions=") || c.startsWith("spark.executor.extraJavaOptions=")) {
                            assertJvmOptions(f, c);
                        }
                        gpu |= c.startsWith("spark.task.resource.gpu.amount=");
                        i++;
                    } else if (a.endsWith(".jar") && jar < 0) {
                        jar = i;
                    }
                }
                assertTrue(jar > 0, f + ": no application jar in " + args);
                assertEquals(shadedJarName(), Path.of(args.get(jar)).getFileName().toString(), f.toString());
                assertTrue(args.contains("--class"), f.toString());
                assertLoupeParses(f, args.subList(jar + 1, args.size()));
            }
        }
        assertTrue(gpu, "one EMR step is the GPU variant");
    }

    @Test
    void aTemplateWithAnUnknownOptionWouldFail() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> assertLoupeParses(Path.of("x.json"), List.of("collect", "--model", "m", "--input", "i", "--hooks", "h", "--out", "o", "--bogus")));
        assertTrue(e.getMessage().contains("--bogus"), e.getMessage());
    }

    /** Loupe's own parser accepts the arguments and they name a command. */
    private static void assertLoupeParses(Path file, List<String> args) {
        CommandLine cli = Loupe.commandLine();
        try {
            CommandLine.ParseResult parsed = cli.parseArgs(args.toArray(String[]::new));
            assertTrue(parsed.hasSubcommand(), file + ": " + args + " names no Loupe command");
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError(file + ": Loupe refuses " + args + ": " + e.getMessage(), e);
        }
    }

    private static void assertJvmOptions(Path file, String options) {
        for (String need : List.of("-Dai.djl.offline=true", "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED")) {
            assertTrue(options.contains(need), file + ": JVM options lack " + need);
        }
    }

    /** The shaded jar's file name, as jobs/pom.xml writes it. */
    private static String shadedJarName() throws IOException {
        Matcher m = Pattern.compile("<outputFile>\\$\\{project.build.directory}/([^<]+)</outputFile>").matcher(Files.readString(ROOT.resolve("jobs/pom.xml")));
        List<String> names = new ArrayList<>();
        while (m.find()) {
            if (m.group(1).endsWith(".jar")) {
                names.add(m.group(1));
            }
        }
        assertEquals(1, names.size(), "one shaded jar in jobs/pom.xml: " + names);
        return names.get(0);
    }

    private static List<Path> templates(String folder) throws IOException {
        try (Stream<Path> s = Files.list(ROOT.resolve("conf").resolve(folder))) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            assertFalse(files.isEmpty(), "no templates in conf/" + folder);
            return files;
        }
    }

    private static JsonObject read(Path f) throws IOException {
        return JsonParser.parseString(Files.readString(f)).getAsJsonObject();
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }
}
