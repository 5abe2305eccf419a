package io.udit.cli;

import io.udit.io.Json;
import io.udit.model.Complexity;
import io.udit.model.ModelConfig;
import io.udit.model.ModelConfigs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Parameters and MACs of a model, counted as the paper counts them; no weights are allocated. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Parameters (as trained and folded) and GMACs per image (folded and training graph).",
        footer = {"", "Examples:", "  udit info                      (every named model)", "  udit info --model U-DiT-B --json",
                "  udit info --config micro.json --input-size 64"})
public final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--all", description = "Every named model (also what info shows without --model or --config).")
    boolean all;

    @Override
    public Integer call() {
        List<Map<String, Object>> rows = new ArrayList<>();
        if (all || !modelOptions.isSet()) {
            for (String name : ModelConfigs.names()) rows.add(row(name, ModelConfigs.named(name)));
        } else {
            ModelConfig c = modelOptions.resolve();
            rows.add(row(modelOptions.model != null ? modelOptions.model : String.valueOf(modelOptions.config), c));
        }
        if (json) {
            System.out.println(Json.writePretty(rows.size() == 1 ? rows.get(0) : rows));
            return 0;
        }
        System.out.printf("%-12s %16s %16s %14s %14s%n", "model", "params trained", "params folded", "GMACs folded", "GMACs train");
        for (Map<String, Object> r : rows) {
            System.out.printf("%-12s %,16d %,16d %14.2f %14.2f%n", r.get("model"), r.get("params_trained"),
                    r.get("params_folded"), r.get("gmacs_folded"), r.get("gmacs_train"));
        }
        System.out.println("GMACs per image, batch 1: folded = inference graph incl. elementwise products (the paper's"
                + " \"GFLOPs\"); train = conv/linear/attention MACs with the FFN unfolded.");
        return 0;
    }

    private static Map<String, Object> row(String name, ModelConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", name);
        m.putAll(Complexity.of(c).toMap());
        m.put("config", c.toMap());
        return m;
    }
}
