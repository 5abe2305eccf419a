/**
 * Sample-quality metrics without Python.
 *
 * <ul>
 *   <li>{@link io.udit.eval.Frechet}: float64 mean / covariance statistics and the Fréchet distance (FID formula of
 *       the ADM evaluator and pytorch-fid; tr sqrtm(S1 S2) through symmetric eigensolvers, offset fallback).</li>
 *   <li>{@link io.udit.eval.InceptionScore}: ADM's inception score (splits of 5,000) or k equal splits.</li>
 *   <li>{@link io.udit.eval.PrecisionRecall}: ADM's ManifoldEstimator (k = 3 radii, blocked squared distances).</li>
 *   <li>{@link io.udit.eval.FidInceptionV3}: pytorch-fid's port of the 2015 TF Inception graph, loading
 *       {@code pt_inception-2015-12-05-6726825d.pth} as is; pool3, sFID spatial features and logits.</li>
 *   <li>{@link io.udit.eval.AdmBatchFile} / {@link io.udit.eval.AdmEvaluator}: the ADM npz batch format and the full
 *       FID / sFID / IS / precision / recall protocol with cached activations ({@code udit eval}).</li>
 *   <li>{@link io.udit.eval.ClassifierMetrics} with {@link io.udit.eval.SmallCnn}: class fidelity and classifier
 *       Fréchet distance for small datasets, with a project-trained, disk-cached classifier.</li>
 * </ul>
 *
 * <p>Bad input raises {@link io.udit.eval.EvalException} (an IllegalArgumentException) with a message saying what is
 * needed; the CLI maps it to exit code 2.
 */
package io.udit.eval;
