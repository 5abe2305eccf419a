package io.udit.train;

import io.udit.data.Dataset;
import io.udit.data.SyntheticShapes;
import io.udit.engine.Engine;
import io.udit.eval.ClassifierMetrics;
import io.udit.io.Json;
import io.udit.model.Backbone;
import io.udit.sample.Sampling;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Evaluation during training on a micro run: every {@code eval.every} steps (and at the end) the figures reach
 * log.jsonl and TensorBoard, a grid is written, and {@code checkpoints/best.pt} holds the step with the best metric,
 * also across a resume.
 */
class EvalEveryTest {
    @TempDir
    Path tmp;

    static SampleEvaluator evaluator;

    @BeforeAll
    static void judge() {
        Engine.init();
        Dataset train = TrainerTest.microData(), heldOut = new SyntheticShapes(1_000_003L, 16, 128, 4);
        ClassifierMetrics.Config small = ClassifierMetrics.Config.defaults().withEpochs(1).withMaxTrainSamples(256)
                .withArchitecture(8, 1).withProgress(false);
        ClassifierMetrics judge = ClassifierMetrics.trainOrLoad(train, heldOut, small, s -> {});
        evaluator = new SampleEvaluator(judge, null, null, train.classNames(), Sampling::toUint8Nhwc);
    }

    static RunConfig config(long steps, int every) {
        return TrainerTest.builder(steps, 2).eval(ev("{\"every\": " + every + ", \"per_class\": 2, \"sampler\": \"ddim\", \"steps\": 2, \"cfg_scale\": 1.5, \"seed\": 7}")).build();
    }

    @Test
    void figuresAreLoggedAndTheBestCheckpointIsKept() throws Exception {
        Path dir = tmp.resolve("run");
        new Trainer(config(5, 2), TrainerTest.microData(), dir, RunFolder.Start.NEW, null).withEvaluator(evaluator).run();

        List<Map<String, Object>> evals = evalLines(dir);
        assertEquals(List.of(2L, 4L, 5L), evals.stream().map(m -> ((Number) m.get("step")).longValue()).toList(), "every 2 steps and at the end");
        long bestStep = -1;
        double best = Double.POSITIVE_INFINITY;
        for (Map<String, Object> m : evals) {
            double fd = ((Number) m.get("frechet_distance")).doubleValue(), fid = ((Number) m.get("fidelity")).doubleValue();
            assertTrue(Double.isFinite(fd) && fd >= 0 && fid >= 0 && fid <= 1, m.toString());
            assertEquals(8L, ((Number) m.get("images")).longValue());
            if (fd < best) {
                best = fd;
                bestStep = ((Number) m.get("step")).longValue();
            }
            assertTrue(Files.isRegularFile(dir.resolve(String.format("eval/grid_step_%07d.png", ((Number) m.get("step")).longValue()))));
        }
        Map<String, Object> record = Json.parseObject(Files.readString(dir.resolve("checkpoints/best.json")));
        assertEquals("frechet_distance", record.get("metric"));
        assertEquals(best, ((Number) record.get("value")).doubleValue(), 0.0);
        assertEquals(bestStep, ((Number) record.get("step")).longValue());
        Backbone m = TrainerTest.microConfig().build(0), e = TrainerTest.microConfig().build(0);
        assertEquals(bestStep, TrainingCheckpoint.load(dir.resolve("checkpoints/best.pt"), m, e, null).step(), "best.pt holds the best step");
        assertFalse(TrainingCheckpoint.list(dir.resolve("checkpoints")).contains(dir.resolve("checkpoints/best.pt")), "never a resume candidate");

        String events = tensorBoardText(dir);
        assertTrue(events.contains("eval/frechet_distance") && events.contains("eval/fidelity") && events.contains("eval/samples"), "TensorBoard tags");
    }

    @Test
    void aResumedRunComparesWithTheBestSoFar() throws Exception {
        Path dir = tmp.resolve("resumed");
        new Trainer(config(2, 2), TrainerTest.microData(), dir, RunFolder.Start.NEW, null).withEvaluator(evaluator).run();
        // an unbeatable best on record: the resumed run's evaluations must not replace best.pt
        Path ckpt = dir.resolve("checkpoints");
        BestCheckpoint.write(ckpt, "frechet_distance", -1.0, 2, Map.of("frechet_distance", -1.0));
        byte[] bestBefore = Files.readAllBytes(ckpt.resolve("best.pt"));
        new Trainer(config(4, 2), TrainerTest.microData(), dir, RunFolder.Start.RESUME, null).withEvaluator(evaluator).run();
        assertEquals(List.of(2L, 4L), evalLines(dir).stream().map(m -> ((Number) m.get("step")).longValue()).toList());
        assertTrue(java.util.Arrays.equals(bestBefore, Files.readAllBytes(ckpt.resolve("best.pt"))), "best.pt kept");
        assertEquals(-1.0, BestCheckpoint.read(ckpt, "frechet_distance"));
        assertNull(BestCheckpoint.read(ckpt, "fidelity"), "a best chosen by another metric does not count");
    }

    @Test
    void settingsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> ev("{\"every\": -1}"));
        assertThrows(IllegalArgumentException.class, () -> ev("{\"per_class\": 1}"));
        assertThrows(IllegalArgumentException.class, () -> ev("{\"metric\": \"fid\"}"));
        assertThrows(IllegalArgumentException.class, () -> ev("{\"inception\": \"w.pth\"}"));
        assertThrows(IllegalArgumentException.class, () -> ev("{\"metric\": \"fd\"}"));
        assertThrows(IllegalArgumentException.class, () -> ev("{\"judge_epochs\": 0}"));
        assertThrows(IllegalArgumentException.class, () -> ev("{\"every_n\": 2}"), "unknown keys are refused");
        assertEquals("fid", ev("{\"inception\": \"w.pth\", \"reference\": \"r.npz\"}").metric());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainerTest.builder(2, 2).eval(ev("{\"every\": 1, \"sampler\": \"heun2\"}")).build());
        assertTrue(e.getMessage().startsWith("eval.sampler"), e.getMessage());
        // the settings survive config.json
        RunConfig c = config(4, 3);
        assertEquals(c.eval(), RunConfig.fromMap(Json.parseObject(Json.write(c.toMap()))).eval());
    }

    static RunConfig.EvalSettings ev(String json) {
        return RunConfig.EvalSettings.fromMap(Json.parseObject(json));
    }

    static List<Map<String, Object>> evalLines(Path dir) throws Exception {
        return Files.readAllLines(dir.resolve("log.jsonl")).stream().<Map<String, Object>>map(Json::parseObject)
                .filter(m -> "eval".equals(m.get("event"))).toList();
    }

    static String tensorBoardText(Path dir) throws Exception {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents")).toList()) {
                b.append(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1));
            }
        }
        return b.toString();
    }
}
