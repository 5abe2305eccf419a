/**
 * Flow matching / stochastic interpolants ("transport"), faithful to SiT's {@code transport/} package
 * (willisma/SiT @ 947f95b).
 *
 * <p><b>Time convention (SiT's):</b> x_t = alpha_t x1 + sigma_t x0, where x1 is <em>data</em> and x0 is noise
 * N(0, I). t = 0 is the noise end, t = 1 the data end; samplers integrate forward in t (noise to data). This is the
 * opposite of DDPM timesteps (large = noisy) and of rectified-flow code that puts data at t = 0.
 *
 * <p>Entry points: {@link io.udit.transport.Transport} (the objective: paths, predictions, loss weights, eps
 * intervals, {@code trainingLosses}, drift and score), {@link io.udit.transport.OdeSampler} and
 * {@link io.udit.transport.SdeSampler} (SiT's samplers), {@link io.udit.transport.FlowSampling} (one call from a
 * sampler spec to samples). Every tensor op works in the dtype of the incoming state (float64 in the parity test,
 * float32 in training); times are Java doubles until they are handed to the model.
 */
package io.udit.transport;
