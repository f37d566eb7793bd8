package io.loupe.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** Reading config.json fields: required ones name themselves when missing; settings that change the maths are refused. */
final class ConfigJson {
    private ConfigJson() {
    }

    static int integer(JsonObject c, String key) {
        if (!c.has(key) || c.get(key).isJsonNull()) {
            throw new IllegalArgumentException("missing field " + key);
        }
        return c.get(key).getAsInt();
    }

    static int integer(JsonObject c, String key, int dflt) {
        return c.has(key) && !c.get(key).isJsonNull() ? c.get(key).getAsInt() : dflt;
    }

    static double number(JsonObject c, String key, double dflt) {
        return c.has(key) && !c.get(key).isJsonNull() ? c.get(key).getAsDouble() : dflt;
    }

    /** A number whose explicit null means "none" (0) and whose absence means the family's default (e.g. Gemma-2's soft-caps). */
    static double numberOrNone(JsonObject c, String key, double dflt) {
        if (!c.has(key)) {
            return dflt;
        }
        return c.get(key).isJsonNull() ? 0 : c.get(key).getAsDouble();
    }

    static boolean bool(JsonObject c, String key, boolean dflt) {
        return c.has(key) && !c.get(key).isJsonNull() ? c.get(key).getAsBoolean() : dflt;
    }

    static String str(JsonObject c, String key, String dflt) {
        return c.has(key) && !c.get(key).isJsonNull() ? c.get(key).getAsString() : dflt;
    }

    /** A token id, or -1 when absent (a list takes its first entry). */
    static int optionalId(JsonObject c, String key) {
        JsonElement e = c.get(key);
        if (e == null || e.isJsonNull()) {
            return -1;
        }
        return e.isJsonArray() ? e.getAsJsonArray().get(0).getAsInt() : e.getAsInt();
    }

    static MlpActivation activation(JsonObject c, String key, String dflt) {
        return MlpActivation.parse(str(c, key, dflt));
    }

    /** Refuses rope scaling (in either spelling) rather than computing different positions. */
    static void refuseRopeScaling(JsonObject c) {
        if (c.has("rope_scaling") && !c.get("rope_scaling").isJsonNull()) {
            throw new IllegalArgumentException("rope_scaling " + c.get("rope_scaling") + " is not supported yet; refusing rather than computing"
                    + " different positions");
        }
        if (c.has("rope_parameters") && c.get("rope_parameters").isJsonObject()) {
            JsonObject rp = c.getAsJsonObject("rope_parameters");
            String type = str(rp, "rope_type", "default");
            if (!type.equals("default")) {
                throw new IllegalArgumentException("rope_parameters.rope_type '" + type + "' is not supported yet; refusing rather than computing"
                        + " different positions");
            }
        }
    }

    /** Refuses a field that changes the maths when it is set to anything but its neutral value. */
    static void refuseIf(JsonObject c, String key, boolean set, String why) {
        if (set) {
            throw new IllegalArgumentException(key + " = " + c.get(key) + " is not supported: " + why);
        }
    }

    /** {@code rope_theta} or {@code rope_parameters.rope_theta}. */
    static double ropeTheta(JsonObject c, String key, double dflt) {
        if (c.has(key) && !c.get(key).isJsonNull()) {
            return c.get(key).getAsDouble();
        }
        if (c.has("rope_parameters") && c.get("rope_parameters").isJsonObject()) {
            return number(c.getAsJsonObject("rope_parameters"), "rope_theta", dflt);
        }
        return dflt;
    }
}
