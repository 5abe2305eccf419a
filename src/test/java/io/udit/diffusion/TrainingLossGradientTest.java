package io.udit.diffusion;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.testing.Fixture;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Autograd through trainingLosses: mse trains only eps channels, vb only the variance channels. */
class TrainingLossGradientTest {
    static Fixture fx;

    @BeforeAll
    static void init() {
        Engine.init();
        fx = Fixture.tiny();
    }

    /** |grad| summed over eps channels (0..3) and variance channels (4..7) of the model output for one term. */
    static double[] gradNorms(Function<GaussianDiffusion.Losses, Tensor> term) {
        Tensor leaf = fx.tensor("ddpm/model_output").detach().clone();
        leaf.set_requires_grad(true);
        GaussianDiffusion d = GaussianDiffusion.create("");
        GaussianDiffusion.Losses l = d.trainingLosses((x, t, y) -> leaf.mul(GaussianDiffusion.s(1.0)),
                fx.tensor("ddpm/x0"), fx.tensor("ddpm/t"), null, fx.tensor("ddpm/noise"));
        term.apply(l).sum().backward();
        Tensor g = leaf.grad();
        return new double[] {g.narrow(1, 0, 4).abs().sum().item_double(), g.narrow(1, 4, 4).abs().sum().item_double()};
    }

    @Test
    void vbOnlyTrainsTheVarianceChannels() {
        double[] g = gradNorms(GaussianDiffusion.Losses::vb);
        assertEquals(0.0, g[0], "vb must see the detached mean");
        assertTrue(g[1] > 1e-3, "vb gradient on variance channels " + g[1]);
    }

    @Test
    void mseOnlyTrainsTheEpsChannels() {
        double[] g = gradNorms(GaussianDiffusion.Losses::mse);
        assertTrue(g[0] > 1e-3, "mse gradient on eps channels " + g[0]);
        assertEquals(0.0, g[1]);
    }

    @Test
    void lossTrainsBoth() {
        double[] g = gradNorms(GaussianDiffusion.Losses::loss);
        assertTrue(g[0] > 1e-3 && g[1] > 1e-3, g[0] + " " + g[1]);
    }

    @Test
    void fixedVarianceModelHasNoVbTerm() {
        GaussianDiffusion d = GaussianDiffusion.create("");
        Tensor eps = fx.tensor("ddpm/model_output").narrow(1, 0, 4);
        GaussianDiffusion.Losses l = d.trainingLosses((x, t, y) -> eps, fx.tensor("ddpm/x0"), fx.tensor("ddpm/t"),
                null, fx.tensor("ddpm/noise"));
        assertNull(l.vb());
        assertTrue(Tensors.maxAbsDiff(l.loss(), fx.tensor("ddpm/training_losses/mse")) < 1e-6);
    }
}
