package io.udit.transport;

import io.udit.diffusion.NoiseSource;
import io.udit.diffusion.ProgressListener;
import io.udit.engine.Engine;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FlowSampling: refuses exactly the sit-transport runs whose outputs are non-finite (with a message naming the
 * cause), and otherwise returns what the underlying sampler returns.
 */
class FlowSamplingTest {
    static SitFixture fx;
    static final FlowModel MODEL = TransportParityTest.MODEL;

    @BeforeAll
    static void load() {
        Engine.init();
        fx = SitFixture.load();
    }

    @Test
    void refusesExactlyTheNonFiniteFixtureRuns() {
        Set<String> nonfinite = new HashSet<>(fx.nonfinite());
        int refused = 0, runs = 0;
        for (Map<String, Object> run : fx.runs("sde")) {
            String[] p = ((String) run.get("prefix")).split("/");
            String last = run.get("last_step") == null ? "None" : (String) run.get("last_step");
            FlowSamplerSpec spec = FlowSamplerSpec.sde(SdeMethod.parse(p[3]), 10, DiffusionForm.parse(p[4]), 1.0,
                    LastStep.parse(last), 0.04, 1.0);
            refused += expectRefusal(TransportParityTest.transport(p[1], p[2]), spec, nonfinite.contains(run.get("prefix") + "/final/" + last), run.get("prefix") + "/" + last);
            runs++;
        }
        for (Map<String, Object> run : fx.runs("ode")) {
            String name = (String) run.get("name");
            String[] p = name.split("/");
            FlowSamplerSpec spec = FlowSamplerSpec.ode(OdeMethod.parse(p[3]), 10, 1e-6, 1e-3, 1.0);
            if (p[4].equals("reverse_final")) spec = spec.reversed();
            refused += expectRefusal(TransportParityTest.transport(p[1], p[2]), spec, nonfinite.contains(name), name);
            runs++;
        }
        assertEquals(144 + 72, runs);
        assertEquals(16 + 1 + 4, refused); // 4 SBDM velocity configs x 4 last steps, Linear Heun sigma None, 4 VP noise reverse ODEs
    }

    static int expectRefusal(Transport tr, FlowSamplerSpec spec, boolean nonFinite, String what) {
        if (!nonFinite) {
            FlowSampling.check(tr, spec);
            return 0;
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlowSampling.check(tr, spec), what);
        assertTrue(e.getMessage().contains("NaN/inf at t = "), e.getMessage());
        return 1;
    }

    @Test
    void refusalMessagesNameTheCause() {
        Transport linearVelocity = TransportParityTest.transport("Linear", "velocity");
        String sbdm = assertThrows(IllegalArgumentException.class, () -> FlowSampling.check(linearVelocity,
                FlowSamplerSpec.sde(SdeMethod.EULER, 10, DiffusionForm.SBDM, 1.0, LastStep.MEAN, 0.04, 1.0))).getMessage();
        assertTrue(sbdm.contains("SBDM diffusion is infinite at t = 0"), sbdm);
        String heun = assertThrows(IllegalArgumentException.class, () -> FlowSampling.check(linearVelocity,
                FlowSamplerSpec.sde(SdeMethod.HEUN, 10, DiffusionForm.SIGMA, 1.0, LastStep.NONE, 0.04, 1.0))).getMessage();
        assertTrue(heun.contains("use a last step"), heun);
        String vp = assertThrows(IllegalArgumentException.class, () -> FlowSampling.check(TransportParityTest.transport("VP", "noise"),
                FlowSamplerSpec.ode(OdeMethod.EULER, 10, 1e-6, 1e-3, 1.0).reversed())).getMessage();
        assertTrue(vp.contains("reversed ODE starts at t = 1"), vp);
    }

    @Test
    void samplesAreTheSamplersOutputs() {
        Tensor init = fx.tensor("input/sampler_init");
        Transport tr = TransportParityTest.transport("GVP", "noise");
        FlowSamplerSpec ode = FlowSamplerSpec.ode(OdeMethod.RK4, 6, 1e-6, 1e-3, 2.0);
        Tensor a = FlowSampling.sample(tr, MODEL, ode, init, null, ProgressListener.NONE);
        Tensor b = FlowSampling.odeSampler(tr, ode).sample(MODEL, init, ProgressListener.NONE);
        assertTrue(a.equal(b));
        FlowSamplerSpec sde = FlowSamplerSpec.sde(SdeMethod.HEUN, 6, DiffusionForm.SIGMA, 1.0, LastStep.TWEEDIE, 0.04, 1.0);
        Tensor c = FlowSampling.sample(tr, MODEL, sde, init, NoiseSource.seeded(9), ProgressListener.NONE);
        Tensor d = FlowSampling.sdeSampler(tr, sde).sample(MODEL, init, NoiseSource.seeded(9), ProgressListener.NONE);
        assertTrue(c.equal(d));
        assertEquals(2 * 5 + 1, sde.modelEvaluations());
        assertEquals(4 * 5, ode.modelEvaluations());
        long[] shape = {2, 3, 8, 8};
        Tensor e = FlowSampling.sample(tr, MODEL, sde, shape, ScalarType.Double, NoiseSource.seeded(5), ProgressListener.NONE);
        NoiseSource n = NoiseSource.seeded(5);
        Tensor x = n.next(shape).to(ScalarType.Double);
        assertTrue(e.equal(FlowSampling.sdeSampler(tr, sde).sample(MODEL, x, n, ProgressListener.NONE)));
    }
}
