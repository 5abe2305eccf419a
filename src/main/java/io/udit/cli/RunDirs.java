package io.udit.cli;

import io.udit.model.ModelConfig;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/** Default run folders: runs/&lt;model&gt;-&lt;data&gt;-&lt;timestamp&gt;, so a listing of runs/ says what each run is. */
final class RunDirs {
    private RunDirs() {}

    static Path defaultFor(ModelConfig model, String dataSpec) {
        String data = dataSpec.replaceAll("[^A-Za-z0-9]+", "_").replaceAll("^_|_$", "");
        return Path.of("runs", model.family() + "-" + data + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }
}
