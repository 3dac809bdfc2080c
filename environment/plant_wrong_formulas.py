#!/usr/bin/env python3
"""Plant wrong formulas in the library's own source, one at a time, and check that `vaelab check` fails (exit 1).

Stryker (environment/mutation-testing.sh) cannot mutate TorchSharp method chains (`.add` <-> `.sub`, `.mul(0.5)`),
so the mistakes a person makes in them are planted here: each entry edits one expression in a copy of the
repository, rebuilds the command line tool and runs `vaelab check`. Entries marked equivalent change the code but
not the maths (they must pass); every other entry must make the check exit 1.

    python3 environment/plant_wrong_formulas.py [--only REGEX] [--checks N ...] [--keep]

Prints one line per mutant and a summary; exits 1 if any non-equivalent mutant survives or an equivalent one fails.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time

# (file under src/VaeLab, exact text, replacement, what it breaks, equivalent?)
MUTANTS = [
    ("Objectives/ImportanceWeightedBound.cs", "return logSum.sub(Math.Log(logWeights.shape[0]));", "return logSum.alias();", "IWAE_k without −log k", False),
    ("Objectives/ImportanceWeightedBound.cs", "return logSum.sub(Math.Log(logWeights.shape[0]));", "return logSum.sub(Math.Log(logWeights.shape[0] + 1));", "IWAE_k with −log(k + 1)", False),
    ("Objectives/ImportanceWeightedBound.cs", "=> logLikelihood.add(logPrior).sub(logDensity);", "=> logLikelihood.add(logPrior).add(logDensity);", "importance weight × q instead of ÷ q", False),
    ("Objectives/ImportanceWeightedBound.cs", "=> logLikelihood.add(logPrior).sub(logDensity);", "=> logLikelihood.sub(logDensity);", "importance weight without the prior", False),
    ("Models/DiagonalGaussian.cs", "z.square().mul(-0.5).sub(HalfLog2Pi)", "z.square().mul(-0.45).sub(HalfLog2Pi)", "log-prior with a wrong coefficient", False),
    ("Models/DiagonalGaussian.cs", "z.square().mul(-0.5).sub(HalfLog2Pi)", "z.square().mul(-0.5)", "log-prior without ½ log 2π", False),
    ("Models/DiagonalGaussian.cs", ".add(logVariance).mul(-0.5).sub(HalfLog2Pi)", ".add(logVariance).mul(-0.5)", "Gaussian log-density without ½ log 2π", False),
    ("Models/DiagonalGaussian.cs", ".mul(logVariance.neg().exp())", ".mul(logVariance.exp())", "Gaussian log-density: × σ² for ÷ σ²", False),
    ("Models/DiagonalGaussian.cs", ".add(logVariance).mul(-0.5)", ".mul(-0.5)", "Gaussian log-density without −½ log σ²", False),
    ("Models/DiagonalGaussian.cs", "(x - mean).square()", "(x + mean).square()", "Gaussian log-density: x + μ for x − μ", False),
    ("Models/DiagonalGaussian.cs", "logVariance.mul(0.5).exp()", "logVariance.exp()", "σ = σ² (exp(log σ²) for exp(½ log σ²))", False),
    ("Models/DiagonalGaussian.cs", "mean.addcmul(sigma, epsilon, 1)", "mean.addcmul(sigma, epsilon, 0.9)", "sample μ + 0.9σε", False),
    ("Models/DiagonalGaussian.cs", "mean.addcmul(sigma, epsilon, 1)", "mean.addcmul(sigma, epsilon, -1)", "sample μ − σε (ε is symmetric: same distribution)", True),
    ("Models/VariationalAutoencoder.cs", "=> randn(shape, like.dtype", "=> rand(shape, like.dtype", "ε uniform instead of normal", False),
    ("Objectives/GaussianKl.cs", ".sub(1).sub(logVariance).mul(0.5)", ".sub(logVariance).mul(0.5)", "KL without −1", False),
    ("Objectives/GaussianKl.cs", ".sub(1).sub(logVariance).mul(0.5)", ".sub(1).add(logVariance).mul(0.5)", "KL with + log σ²", False),
    ("Objectives/GaussianKl.cs", ".sub(1).sub(logVariance).mul(0.5)", ".sub(1).sub(logVariance)", "KL without ½", False),
    ("Objectives/GaussianKl.cs", "mean.square().add(logVariance.exp())", "mean.abs().add(logVariance.exp())", "KL with |μ| for μ²", False),
    ("Objectives/GaussianKl.cs", "mean.square().add(logVariance.exp())", "mean.square().add(logVariance.mul(0.5).exp())", "KL with σ for σ²", False),
    ("Objectives/Elbo.cs", ".view(samples, n).mean([0])", ".view(samples, n).sum([0])", "ELBO sums the samples instead of averaging", False),
    ("Objectives/GaussianKl.cs", "return perDimension.sum(1);", "return perDimension.mean([1]);", "KL averaged over latent dimensions", False),
    ("Objectives/Elbo.cs", "else z = family.Sample(parameters, epsilon);", "else z = family.Mean(parameters).expand_as(epsilon);", "ELBO estimated at z = μ (no sampling)", False),
    ("Objectives/Elbo.cs", "if (samples == 1)", "if (samples != 1)", "ELBO with samples > 1 draws only one z", False),
    ("Objectives/ElboEstimate.cs", "ReconstructionLogLikelihoodNats - KlNats", "ReconstructionLogLikelihoodNats + KlNats", "ELBO = E log p + KL", False),
    ("Models/GaussianLikelihood.cs", "LogDensityPerDimension(x, mean, logSigma.mul(2))", "LogDensityPerDimension(x, mean, logSigma)", "likelihood: log σ passed as log σ²", False),
    ("Models/GaussianLikelihood.cs", "GaussianVariance.DecoderOutput => Bound(decoderOutput.chunk(2, 1)[1]),", "GaussianVariance.DecoderOutput => Bound(decoderOutput.chunk(2, 1)[0]),", "decoder-output σ read from the mean half", False),
    ("Models/GaussianLikelihood.cs", "Math.Log(fixedSigma), decoderOutput.dtype", "fixedSigma, decoderOutput.dtype", "fixed σ used as log σ", False),
    ("Models/BernoulliLikelihood.cs", "reduction: nn.Reduction.None).sum(1).neg()", "reduction: nn.Reduction.None).sum(1)", "Bernoulli log p with the wrong sign", False),
    ("Models/BernoulliLikelihood.cs", "binary_cross_entropy_with_logits(decoderOutput, x,", "binary_cross_entropy_with_logits(decoderOutput.mul(0.5), x,", "Bernoulli on half the logits", False),
    ("Models/Posteriors/PosteriorFamily.cs", "public Tensor Mean(Tensor parameters) => parameters.narrow(-1, 0, LatentDimensions);", "public Tensor Mean(Tensor parameters) => parameters.narrow(-1, LatentDimensions, LatentDimensions);", "μ read from the encoder's log σ² columns", False),
    ("Evaluation/Evaluator.cs", "Tensor logLikelihood = logSum.sub(Math.Log(k) + jacobian);", "Tensor logLikelihood = logSum.sub(jacobian);", "evaluator log p(x) without −log k", False),
    ("Evaluation/LogMeanExp.cs", "ratio.sub(1).clamp_min(0).div(k - 1)", "ratio.clamp_min(0).div(k - 1)", "delta-method variance (evaluator, AIS) without −1", False),
    ("Evaluation/Evaluator.cs", "Math.Sqrt(variances.Sum()) / n", "Math.Sqrt(variances.Sum() / n)", "evaluator's Monte Carlo SE divided by √n only", False),
    ("Evaluation/Evaluator.cs", "Math.Sqrt(variance / n), reconstruction / n, kl / n", "Math.Sqrt(variance), reconstruction / n, kl / n", "test-ELBO standard error not divided by √n", False),
    ("Evaluation/Evaluator.cs", "return total.Select(v => v / data.Count).ToArray();", "return total.Select(v => v / (data.Count - 1)).ToArray();", "KL per dimension averaged over N − 1", False),
    ("Evaluation/Evaluator.cs", "logSumSquares = stack([logSumSquares, logWeights.mul(2).logsumexp(0)])", "logSumSquares = stack([logSumSquares, logWeights.logsumexp(0)])", "streamed Σw² uses Σw", False),
    # 8-bit pixels (check 6): the dequantiser, its Jacobian, the bins and the discretised likelihoods.
    ("Data/Dequantization.cs", "dimensions * Math.Log(levels);", "dimensions * Math.Log(levels - 1);", "8-bit: Jacobian D log 255 for D log 256", False),
    ("Data/Dequantization.cs", "dimensions * Math.Log(levels);", "0.0 * dimensions;", "8-bit: dequantised density without the Jacobian", False),
    ("Data/Dequantization.cs", "using Scalar count = (double)levels, one = 1.0;", "using Scalar count = (double)(levels - 1), one = 1.0;", "8-bit: bin upper edge (k + 1)/(L − 1)", False),
    ("Data/Dequantization.cs", "using Scalar last = (double)(levels - 1), zero = 0.0;", "using Scalar last = (double)levels, zero = 0.0;", "8-bit: level from round(x·L) for round(x·(L − 1))", False),
    ("Data/Dequantization.cs", ".add(u.div(count))", ".add(u.div(count).mul(1.004))", "8-bit: dequantising noise 0.4 % wider than the bin", False),
    ("Models/DiscretizedLikelihood.cs", "Tensor logAboveLower = nn.functional.logsigmoid(b.neg());", "Tensor logAboveLower = nn.functional.logsigmoid(b);", "8-bit: logistic mass above the lower edge as σ(b)", False),
    ("Models/DiscretizedLikelihood.cs", "logUpper + logAboveLower + Log1MinusExp(b - a)", "logUpper + logAboveLower", "8-bit: logistic bin mass without its (1 − e^(b − a)) factor", False),
    ("Models/DiscretizedLikelihood.cs", "where(first, firstMass, where(last, lastMass, inner))", "where(first, firstMass, inner)", "8-bit: Gaussian top bin not open to +∞", False),
    ("Models/DiscretizedLikelihood.cs", "Tensor lastMass = where(right, logHigh, complement);", "Tensor lastMass = where(right, complement, logHigh);", "8-bit: Gaussian top bin's mass from the wrong tail", False),
    ("Models/DiscretizedLikelihood.cs", "special.erfc(middle.neg().mul(InverseSqrt2)).mul(Half).log()", "special.erfc(middle.neg().mul(InverseSqrt2)).log()", "8-bit: log Φ without the ½", False),
    ("Models/DiscretizedLikelihood.cs", ".sub(tail.neg().log()).sub(HalfLog2Pi)", ".sub(tail.neg().log())", "8-bit: log Φ tail series without −½ log 2π", False),
    ("Models/DiscretizedLikelihood.cs", ".sub(C1).mul(inverseSquare).add(C1);", ".add(C1).mul(inverseSquare).add(C1);", "8-bit: log Φ tail series with +1/z²", False),
    ("Models/DiscretizedLikelihood.cs", "Tensor upper = (PixelBins.UpperEdge(level, Levels) - mean) * inverseScale;", "Tensor upper = (PixelBins.UpperEdge(level, Levels) + mean) * inverseScale;", "8-bit: standardised upper edge with + μ", False),
    ("Models/DiscretizedLikelihood.cs", "Tensor inverseScale = LogScale(decoderOutput).neg().exp();", "Tensor inverseScale = LogScale(decoderOutput).exp();", "8-bit: discretised likelihood multiplies by the scale", False),
    ("Models/DiscretizedLikelihood.cs", "Tensor level = y.mul(Levels).floor()", "Tensor level = y.mul(Levels).round()", "8-bit: sample binned by rounding (half a bin up)", False),
    ("Models/DiscretizedLikelihood.cs", "Tensor y = mean + noise * LogScale(decoderOutput).exp();", "Tensor y = mean + noise * LogScale(decoderOutput).exp().mul(1.2);", "8-bit: sample with a 20 % wider scale", False),
    ("Models/DiscretizedLikelihood.cs", "if (is_grad_enabled() || rows <= EvaluationRows)", "if (is_grad_enabled() || rows <= 2 * EvaluationRows)", "8-bit: evaluation blocks of another size (same numbers)", True),
    ("Models/DiscretizedLikelihood.cs", "Tensor right = b.gt(Zero);", "Tensor right = b.lt(Zero);", "8-bit: Gaussian bin difference taken on the side of the mode (same maths in exact arithmetic; log Φ ≈ 0 there loses the tail)", False),
    # The inference gap (check 7): HMC, AIS and BDMC, the per-example q*, the decomposition.
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", "Tensor force = z.add(gradient, minusB);", "Tensor force = z.add(gradient, b);", "gap: HMC force ∇U with +β∇log p(x|z)", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", "momentum0.sub(halfStep.mul(Z.add(Gradient, minusB)))", "momentum0.sub(StepSize.mul(Z.add(Gradient, minusB)))", "gap: leapfrog starts with a full momentum step", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", "(step < leapfrogSteps ? StepSize : halfStep)", "StepSize", "gap: leapfrog ends with a full momentum step (not reversible)", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", "Tensor logAccept = before.sub(after)", "Tensor logAccept = after.sub(before)", "gap: Metropolis ratio inverted", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", "Tensor kinetic = momentum.to_type(ScalarType.Float64).square().sum(1).mul(Half);", "Tensor kinetic = momentum.to_type(ScalarType.Float64).square().sum(1);", "gap: kinetic energy ‖p‖² for ½‖p‖²", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", "Tensor prior = z.to_type(ScalarType.Float64).square().sum(1).mul(Half);", "Tensor prior = z.to_type(ScalarType.Float64).square().sum(1).mul(One);", "gap: prior energy ‖z‖² for ½‖z‖²", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", ".log().lt(logAccept)", ".log().gt(logAccept)", "gap: accept when log u > log a", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "Accumulate(logWeights, sampler.LogLikelihood, betas[t] - betas[t - 1]);", "Accumulate(logWeights, sampler.LogLikelihood, betas[t]);", "gap: forward AIS weight increment β_t for β_t − β_{t−1}", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "Accumulate(logWeights, sampler.LogLikelihood, betas[t - 1] - betas[t]);", "Accumulate(logWeights, sampler.LogLikelihood, betas[t] - betas[t - 1]);", "gap: reverse AIS weight increment with the wrong sign", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "Tensor estimate = reverse ? logMean.neg() : logMean;", "Tensor estimate = logMean;", "gap: reverse AIS reports log 1/p(x)", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "sampler.SetStepSizes(stepSizes.reshape(-1, 1));\n                        sampler.Step(betas[t]);", "sampler.SetStepSizes(stepSizes.reshape(-1, 1));", "gap: forward AIS without transitions (importance sampling from the prior)", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "sampler.SetStepSizes(stepSizes.reshape(-1, 1));\n                        sampler.Step(betas[t]);", "sampler.SetStepSizes(stepSizes.reshape(-1, 1));\n                        sampler.Step(betas[t - 1]);", "gap: forward transition leaves f_{t−1} invariant, not f_t", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", ".sub(targetAcceptance).mul(adaptation).exp()", ".sub(targetAcceptance).mul(adaptation).neg().exp()", "gap: step size adapted away from the target acceptance", False),
    ("Evaluation/Inference/HamiltonianMonteCarlo.cs", "where(accept, logLikelihood, LogLikelihood)", "logLikelihood", "gap: log p(x|z) of the proposal kept after a rejection", False),
    ("Evaluation/Inference/AisEstimate.cs", "Math.Sqrt(PerExampleVariance.Sum()) / Examples", "Math.Sqrt(PerExampleVariance.Sum()) / Math.Sqrt(Examples)", "gap: AIS standard error divided by √n only", False),
    ("Evaluation/LogMeanExp.cs", "variance = delta.maximum(tail);", "variance = delta;", "gap: AIS standard error by the delta method alone", False),
    ("Evaluation/Inference/InferenceGap.cs", "double[] isValues = importance.PerExampleNats!.Select(v => v - jacobian).ToArray();", "double[] isValues = importance.PerExampleNats!.ToArray();", "gap: 8-bit IS estimate without the Jacobian", False),
    ("Evaluation/Inference/InferenceGap.cs", "double[] aisValues = ais.PerExampleNats.Select(v => v - jacobian).ToArray();", "double[] aisValues = ais.PerExampleNats.ToArray();", "gap: 8-bit AIS estimate without the Jacobian", False),
    ("Evaluation/Inference/InferenceGap.cs", "encoderValues = encoder.Select(v => v - jacobian).ToArray()", "encoderValues = encoder.ToArray()", "gap: 8-bit L[q] without the Jacobian", False),
    ("Evaluation/Inference/InferenceGap.cs", "options.ImportanceSamples, seed + 1_000_003, treatment: asIs);", "options.ImportanceSamples, seed + 1_000_003, treatment: treatment);", "gap: 8-bit IS dequantises the dequantised data again", False),
    ("Evaluation/LogMeanExp.cs", "return (logSum.sub(Math.Log(k)).MoveToOuterDisposeScope()", "return (logSum.MoveToOuterDisposeScope()", "gap: AIS log-mean-exp without −log k", False),
    ("Evaluation/Inference/LocalPosterior.cs", "elbo.sum().neg().backward();", "elbo.sum().backward();", "gap: q* fitted by minimising the ELBO", False),
    ("Evaluation/Inference/LocalPosterior.cs", "last = sum.div(inWindow).DetachFromDisposeScope();", "last = sum.div(inWindow + 1).DetachFromDisposeScope();", "gap: q* parameters averaged over n + 1 iterates", False),
    ("Evaluation/Inference/LocalPosterior.cs", ".mul(samples / (samples - 1.0)).div(samples);", ".mul(samples / (samples - 1.0));", "gap: Score's variance of one draw, not of the mean", False),
    ("Evaluation/Inference/InferenceGap.cs", "approximation[i] = best[i] - localValues[i];", "approximation[i] = localValues[i] - best[i];", "gap: approximation gap L[q*] − log p̂", False),
    ("Evaluation/Inference/InferenceGap.cs", "amortisation[i] = localValues[i] - encoderValues[i];", "amortisation[i] = best[i] - encoderValues[i];", "gap: amortisation gap log p̂ − L[q]", False),
    ("Evaluation/Inference/InferenceGap.cs", "bool aisBetter = aisValues.Average() >= isValues.Average();", "bool aisBetter = aisValues.Average() <= isValues.Average();", "gap: log p̂ from the looser of AIS and IS", False),
    ("Models/Posteriors/DiagonalPosterior.cs", "GaussianKl.ToStandardNormal(Mean(parameters), LogVariance(parameters))", "GaussianKl.ToStandardNormal(Mean(parameters), LogVariance(parameters).mul(0.5))", "gap: ELBO of a given q with the KL of σ for σ²", False),
    # Every reported figure on every data path (checks 6, 8, 9): the Jacobian as the evaluator and AIS apply it, chains, blocks,
    # standard errors, BDMC's data, bits/dim and the gap's arithmetic.
    ("Evaluation/Evaluator.cs", "Tensor logLikelihood = logSum.sub(Math.Log(k) + jacobian);", "Tensor logLikelihood = logSum.sub(Math.Log(k));", "figures: IS log p(x) of dequantised data without the Jacobian", False),
    ("Evaluation/Evaluator.cs", "Tensor logLikelihood = logSum.sub(Math.Log(k) + jacobian);", "Tensor logLikelihood = logSum.sub(Math.Log(k) + 2 * jacobian);", "figures: IS log p(x) of dequantised data with the Jacobian twice", False),
    ("Evaluation/Evaluator.cs", "using Tensor elbo = terms.ElboNats().to_type(ScalarType.Float64) - jacobian;", "using Tensor elbo = terms.ElboNats().to_type(ScalarType.Float64);", "figures: test ELBO of dequantised data without the Jacobian", False),
    ("Evaluation/Evaluator.cs", "reconstruction += (terms.ReconstructionLogLikelihoodNats.to_type(ScalarType.Float64) - jacobian)", "reconstruction += (terms.ReconstructionLogLikelihoodNats.to_type(ScalarType.Float64))", "figures: test reconstruction of dequantised data without the Jacobian", False),
    ("Models/PixelTreatment.cs", "Dequantize ? PixelBins.LogJacobianNats(dimensions, Levels!.Value) : 0;", "Dequantize ? PixelBins.LogJacobianNats(dimensions, Levels!.Value - 1) : 0;", "figures: the evaluator's Jacobian D log 255 for D log 256 (3.07 nats on Fashion-MNIST)", False),
    ("Models/PixelTreatment.cs", "Dequantize ? PixelBins.LogJacobianNats(dimensions, Levels!.Value) : 0;", "Levels is int l ? PixelBins.LogJacobianNats(dimensions, l) : 0;", "figures: a Jacobian taken off binarised and discretised data too", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "PerExampleNats = estimate.PerExampleNats.Select(v => v - jacobian).ToArray()", "PerExampleNats = estimate.PerExampleNats.Select(v => v).ToArray()", "figures: AIS over a data set without the Jacobian", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "PerExampleNats = estimate.PerExampleNats.Select(v => v - jacobian).ToArray()", "PerExampleNats = estimate.PerExampleNats.Select(v => v - 2 * jacobian).ToArray()", "figures: AIS over a data set with the Jacobian twice", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "logWeights = logWeights.view(examples, width).slice(1, pilots, width, 1);", "logWeights = logWeights.view(examples, width).slice(1, 0, chains, 1);", "figures: AIS pilot chains in the estimate (the first C rows)", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "logWeights = logWeights.view(examples, width).slice(1, pilots, width, 1);", "logWeights = logWeights.view(examples, width);", "figures: AIS pilot chains added to the kept chains", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "sampler.Step(betas[t - 1]);", "sampler.Step(betas[t]);", "figures: reverse AIS transition leaves f_t, not f_{t−1}, invariant", False),
    ("Evaluation/Inference/BidirectionalMonteCarlo.cs", "Tensor x = model.Likelihood.Sample(model.Decode(z), generator);", "Tensor x = model.Likelihood.Mean(model.Decode(z));", "figures: BDMC simulates the decoder's mean, not a draw", False),
    ("Evaluation/Evaluator.cs", "Tensor x = treatment.Apply(data.Examples.slice(0, start, end, 1).to(TorchRuntime.Device), generator);\n        Tensor flat", "Tensor x = treatment.Apply(data.Examples.slice(0, 0, end - start, 1).to(TorchRuntime.Device), generator);\n        Tensor flat", "figures: every IS batch reads the first batch's rows", False),
    ("Evaluation/Evaluator.cs", "Tensor x = treatment.Apply(data.Examples.slice(0, start, end, 1).to(TorchRuntime.Device), generator);\n            using ElboEstimate", "Tensor x = treatment.Apply(data.Examples.slice(0, 0, end - start, 1).to(TorchRuntime.Device), generator);\n            using ElboEstimate", "figures: every test-ELBO batch reads the first batch's rows", False),
    ("Evaluation/Inference/AnnealedImportanceSampling.cs", "Tensor xBatch = x.slice(0, start, end, 1)", "Tensor xBatch = x.slice(0, 0, examples, 1)", "figures: every AIS batch reads the first batch's examples", False),
    ("Models/DiscretizedLikelihood.cs", "LogMassOfRows(xs.narrow(0, start, size), decoderOutput", "LogMassOfRows(xs.narrow(0, 0, size), decoderOutput", "figures: a discretised block reads the first block's pixels", False),
    ("Models/DiscretizedLikelihood.cs", "decoderOutput.narrow(0, start, size)).MoveToOuterDisposeScope()", "decoderOutput.narrow(0, Math.Max(start - size, 0), size)).MoveToOuterDisposeScope()", "figures: a discretised block reads the previous block's locations", False),
    ("Evaluation/Evaluator.cs", "Math.Sqrt(variances.Sum()) / n, Math.Sqrt(spread / n))", "Math.Sqrt(variances.Sum()) / n, Math.Sqrt(spread))", "figures: IS data standard error not divided by √n", False),
    ("Evaluation/Evaluator.cs", "Math.Sqrt(variances.Sum()) / n, Math.Sqrt(spread / n))", "Math.Sqrt(variances.Sum()) / n, spread / n)", "figures: IS data standard error a variance", False),
    ("Evaluation/Evaluator.cs", "Math.Sqrt(variance / n), reconstruction / n, kl / n", "variance / n, reconstruction / n, kl / n", "figures: test-ELBO standard error a variance", False),
    ("Evaluation/Inference/AisEstimate.cs", "Math.Sqrt(PerExampleVariance.Sum()) / Examples", "PerExampleVariance.Sum() / Examples", "figures: AIS Monte Carlo standard error a variance", False),
    ("Evaluation/Inference/AisEstimate.cs", "/ (Examples - 1) / Examples)", "/ (Examples - 1))", "figures: AIS data standard error not divided by √n", False),
    ("Evaluation/LogMeanExp.cs", "spread.expm1().div(k)", "spread.expm1()", "figures: log-mean-exp tail variance not divided by k", False),
    ("Evaluation/LogMeanExp.cs", "spread.mul(MaximumOfNormalsVariance((int)Math.Min(k, int.MaxValue)))", "spread", "figures: log-mean-exp small-k tail without v_k", False),
    ("Evaluation/LogMeanExp.cs", "double density = k * Math.Exp(", "double density = Math.Exp(", "figures: v_k's density without its factor k (normalised away: the same moments)", True),
    ("Evaluation/LogMeanExp.cs", "+ (k - 1) * LogStandardNormalCdf(x));", "+ k * LogStandardNormalCdf(x));", "figures: v_k of the largest of k + 1 normals", False),
    ("Evaluation/Inference/GapDecomposition.cs", "return new(mean, Math.Sqrt(variance / n));", "return new(mean, Math.Sqrt(variance));", "figures: gap figures' standard error not divided by √n", False),
    ("Evaluation/Inference/GapDecomposition.cs", "return new(mean, Math.Sqrt(variance / n));", "return new(mean, variance / n);", "figures: gap figures' standard error a variance", False),
    ("Evaluation/Inference/InferenceGap.cs", "total[i] = best[i] - encoderValues[i];", "total[i] = best[i] - localValues[i];", "figures: total gap log p̂ − L[q*]", False),
    ("Evaluation/Inference/InferenceGap.cs", "localValues = local.Select(v => v - jacobian).ToArray()", "localValues = local.ToArray()", "figures: 8-bit L[q*] without the Jacobian", False),
    ("Evaluation/BitsPerDimension.cs", "return -logLikelihoodNats / (dimensions * Math.Log(2));", "return -logLikelihoodNats / (dimensions * Math.Log(10));", "figures: bits/dim with log 10 for log 2", False),
    ("Evaluation/BitsPerDimension.cs", "return -logLikelihoodNats / (dimensions * Math.Log(2));", "return -logLikelihoodNats * Math.Log(2) / dimensions;", "figures: bits/dim multiplied by ln 2", False),
    # Training's data-parallel, hand-derived step (check 5's training-gradient rows; issue 14).
    ("Kernels/BernoulliKernel.cs", "sum += xj * lj - (Vector.Max(lj, Vector<float>.Zero) + log1p);", "sum += xj * lj - log1p;", "Bernoulli kernel: softplus without max(l, 0)", False),
    ("Kernels/BernoulliKernel.cs", "(vscale * (sigmoid - xj)).StoreUnsafe", "(vscale * (xj - sigmoid)).StoreUnsafe", "Bernoulli kernel: gradient with the wrong sign", False),
    ("Kernels/BernoulliKernel.cs", "p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1f / 3));", "p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1f / 4));", "Bernoulli kernel: log1p series with 1/4 for 1/3", False),
    ("Kernels/BernoulliKernel.cs", "p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 6));", "p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1f / 5));", "Bernoulli kernel: exp series with 1/5 for 1/3!", False),
    ("Training/Steps/MlpBernoulliStep.cs", "output[lv] = 0.5f * dz[k] * eps[k] * sd[k]", "output[lv] = dz[k] * eps[k] * sd[k]", "hand-derived ∂log σ² without ½", False),
    ("Training/Steps/MlpBernoulliStep.cs", "0.5f * c * (sd[k] * sd[k] - 1)", "0.5f * c * (sd[k] - 1)", "hand-derived KL gradient with σ for σ²", False),
    ("Training/Steps/MlpBernoulliStep.cs", "output[mu] = dz[k] + c * meanAndLogVariance[mu];", "output[mu] = dz[k];", "hand-derived ∂μ without the KL's μ/n", False),
    ("Kernels/LinearKernels.cs", "for (int j = 0; j < acc.Length; j++) acc[j] += vectors[j];", "for (int j = 0; j < acc.Length; j++) acc[j] = vectors[j];", "bias gradient from the last row only", False),
    ("Kernels/LinearKernels.cs", "Vector.GreaterThan(a[j], Vector<float>.Zero)", "Vector.GreaterThanOrEqual(a[j], Vector<float>.Zero)", "ReLU backward without its mask", False),
    ("Objectives/BetaElboLoss.cs", "(beta * klSumNats - reconstructionSumNats) / examples", "(klSumNats - reconstructionSumNats) / examples", "hand-derived steps' β-loss without β", False),
    ("Objectives/BetaElboLoss.cs", "public static double KlWeight(double beta, long examples) => beta / examples;", "public static double KlWeight(double beta, long examples) => beta;", "hand-derived KL gradient weight β for β/n", False),
    ("Training/Steps/SplitLayersStep.cs", "Floats(x)[p0..]", "Floats(x)", "layer split: a pixel block's likelihood against the first block's pixels", False),
    ("Training/Steps/SplitLayersStep.cs", "for (int t = 1; t < Threads; t++) headOutput.add_(", "for (int t = 1; t < 1; t++) headOutput.add_(", "layer split: the head from thread 0's hidden units only", False),
    ("Training/Steps/SplitLayersStep.cs", "for (int t = 1; t < Threads; t++) gradH3.add_(", "for (int t = 1; t < 1; t++) gradH3.add_(", "layer split: ∂h₃ from thread 0's pixels only", False),
    ("Training/Steps/SplitLayersStep.cs", "generators[s].manual_seed(seed);", "generators[s].manual_seed(seed + s);", "layer split: each thread draws its own ε", False),
    ("Training/Steps/SplitLayersStep.cs", "for (int t = 0; t < Threads; t++)\n                foreach", "for (int t = s; t <= s; t++)\n                foreach", "layer split: the loss from one pixel block", False),
    ("Training/Steps/SplitLayersStep.cs", "ZeroWhereOff(Floats(gradH3), Floats(h3));", "", "layer split: decoder ReLU backward without its mask", False),
    ("Training/Steps/SplitLayersStep.cs", "head.weight!.grad!.narrow(1, h0, hc)", "head.weight!.grad!.narrow(1, 0, hc)", "layer split: W₂'s gradient written to the first block's columns", False),
    ("Training/Steps/SplitExamplesStep.cs", "return outcomes.Select(o => (double)o.Examples / total).ToArray();", "return outcomes.Select(o => 1.0 / outcomes.Length).ToArray();", "shards weighted equally, not by their rows", False),
    ("Training/Steps/SplitExamplesStep.cs", "generators[s].manual_seed(unchecked((long)ShardSeed(runSeed, step, s)));\n            using var scope", "generators[s].manual_seed(unchecked((long)ShardSeed(runSeed, step, 0)));\n            using var scope", "every shard draws shard 0's ε", False),
    ("Kernels/FusedAdam.cs", "AddScaled(target, target, T.CreateChecked(weights[0]), first: true", "AddScaled(target, target, T.One, first: true", "gradient reduction ignores shard 0's weight", False),
    # Posterior families (check 10): the full covariance, planar layers, IAF.
    ("Models/Posteriors/FullCovariancePosterior.cs", "Tensor diagonal = DiagonalGaussian.StandardDeviation(LogVariance(parameters)).diag_embed();", "Tensor diagonal = LogVariance(parameters).diag_embed();", "family: Cholesky diagonal not made positive (log σ² used as L_jj)", False),
    ("Models/Posteriors/FullCovariancePosterior.cs", "positions.Add(i * d + j);", "positions.Add(j * d + i);", "family: off-diagonal entries placed above the diagonal", False),
    ("Models/Posteriors/FullCovariancePosterior.cs", "trace = trace.add(parameters.narrow(-1, 2 * d, offDiagonal).square().sum(-1));", "trace = trace.add(parameters.narrow(-1, 2 * d, offDiagonal).abs().sum(-1));", "family: full-covariance KL with Σ|L_ij| for Σ L_ij²", False),
    ("Models/Posteriors/FullCovariancePosterior.cs", ".sub(d).sub(logVariance.sum(-1)).mul(0.5)", ".sub(d).sub(logVariance.sum(-1).mul(0.5)).mul(0.5)", "family: full-covariance KL with ½ log det Σ", False),
    ("Models/Posteriors/PlanarFlowPosterior.cs", "Tensor logDeterminant = squared.add(squared.neg().add(1).mul(slack)).log();", "Tensor logDeterminant = squared.neg().add(1).mul(slack.sub(1)).abs().log();", "family: planar log-det without its 1 +", False),
    ("Models/Posteriors/PlanarFlowPosterior.cs", "Tensor m = nn.functional.softplus(wu).sub(1);", "Tensor m = nn.functional.softplus(wu);", "family: planar û without the −1 in m(a) = −1 + softplus(a)", False),
    ("Models/Posteriors/PlanarFlowPosterior.cs", "Tensor output = z.add(uHat.mul(activation));", "Tensor output = z.sub(uHat.mul(activation));", "family: planar layer z − û h (forward only)", False),
    ("Models/Posteriors/PlanarFlowPosterior.cs", "Tensor activation = z.mul(w).sum(-1, keepdim: true).add(b).tanh();", "Tensor activation = z.mul(w).sum(-1, keepdim: true).sub(b).tanh();", "family: planar layer tanh(wᵀz − b)", False),
    ("Models/Posteriors/AutoregressiveNetwork.cs", "input[k * d + i] = degree[i] <= hiddenDegree[k] ? 1 : 0;", "input[k * d + i] = degree[i] <= hiddenDegree[k] + 1 ? 1 : 0;", "family: MADE input mask one position off", False),
    ("Models/Posteriors/AutoregressiveNetwork.cs", "output[j * h + k] = hiddenDegree[k] < degree[j % d] ? 1 : 0;", "output[j * h + k] = hiddenDegree[k] <= degree[j % d] ? 1 : 0;", "family: MADE output mask lets z_j see itself", False),
    ("Models/Posteriors/InverseAutoregressiveFlowPosterior.cs", "Tensor output = gate.mul(z).add(gate.neg().add(1).mul(shift));", "Tensor output = gate.mul(z).sub(gate.neg().add(1).mul(shift));", "family: IAF gated update with − (1 − σ) m", False),
    ("Models/Posteriors/InverseAutoregressiveFlowPosterior.cs", "Tensor logDeterminant = nn.functional.logsigmoid(gateLogit).sum(-1);", "Tensor logDeterminant = nn.functional.logsigmoid(gateLogit.neg()).sum(-1);", "family: IAF log-det Σ log(1 − σ) for Σ log σ", False),
    ("Models/Posteriors/InverseAutoregressiveFlowPosterior.cs", "reversed: t % 2 == 1", "reversed: false", "family: IAF order not reversed between layers", False),
    ("Objectives/Elbo.cs", "kl ??= logDensity.sub(DiagonalGaussian.LogStandardNormal(z)).mean([0]);", "kl ??= DiagonalGaussian.LogStandardNormal(z).sub(logDensity).mean([0]);", "family: a flow's Monte Carlo KL with the wrong sign (log p − log q)", False),
    ("Objectives/Elbo.cs", "kl ??= logDensity.sub(DiagonalGaussian.LogStandardNormal(z)).mean([0]);", "kl ??= logDensity.mean([0]).neg();", "family: a flow's Monte Carlo KL as the entropy alone (no log p(z))", False),
    ("Models/Posteriors/PosteriorFamily.cs", "return DiagonalGaussian.LogStandardNormal(epsilon).sub(logVariance.sum(-1).mul(0.5))", "return DiagonalGaussian.LogStandardNormal(epsilon).sub(logVariance.sum(-1))", "family: base log-density with −Σ log σ² for −½ Σ log σ²", False),
    ("Models/Posteriors/PlanarFlowPosterior.cs", "start = 2 * d + layer * (2 * d + 1);", "start = 2 * d + layer * (2 * d);", "family: planar layers' (u, w, b) read with a stride of 2d (neighbouring layers share columns)", False),
    ("Models/Posteriors/InverseAutoregressiveFlowPosterior.cs", "public Tensor Context(Tensor parameters) => parameters.narrow(-1, 2 * LatentDimensions, ContextSize);", "public Tensor Context(Tensor parameters) => parameters.narrow(-1, 0, ContextSize);", "family: IAF context read from μ's columns", False),
    ("Models/Posteriors/PlanarFlowPosterior.cs", "Tensor slack = nn.functional.softplus(w.mul(u).sum(-1));", "Tensor slack = nn.functional.softplus(w.mul(u).sum(-1)).detach();", "family: planar log-det's slack detached (values right, gradient wrong)", False),
    ("Models/Posteriors/InverseAutoregressiveFlowPosterior.cs", "Tensor logDeterminant = nn.functional.logsigmoid(gateLogit).sum(-1);", "Tensor logDeterminant = nn.functional.logsigmoid(gateLogit.detach()).sum(-1);", "family: IAF log-det detached from the MADE (values right, gradient wrong)", False),
    ("Objectives/Elbo.cs", "kl ??= logDensity.sub(DiagonalGaussian.LogStandardNormal(z)).mean([0]);", "kl ??= logDensity.sub(DiagonalGaussian.LogStandardNormal(z)).sum([0]);", "family: a flow's Monte Carlo KL summed over the draws, not averaged", False),
    # Priors (check 11): the mistakes a researcher would make in a mixture, a VampPrior and the KL to them.
    ("Models/Priors/VampPrior.cs", ".logsumexp(-1).sub(Math.Log(Components))", ".logsumexp(-1)", "prior: VampPrior without −log K", False),
    ("Models/Priors/MixturePrior.cs", "Tensor logWeights = logits.to(z.dtype).log_softmax(0);", "Tensor logWeights = logits.to(z.dtype);", "prior: mixture weights not normalised", False),
    ("Models/Priors/MixturePrior.cs", "Tensor logWeights = logits.to(z.dtype).log_softmax(0);", "Tensor logWeights = logits.to(z.dtype).log_softmax(0).sub(Math.Log(Components));", "prior: mixture weights divided by K twice", False),
    ("Models/Priors/MixturePrior.cs", "Tensor component = multinomial(logits.to(ScalarType.Float64, device).softmax(0)", "Tensor component = multinomial(ones(Components, ScalarType.Float64, device)", "prior: mixture sampler ignores the weights", False),
    ("Objectives/Elbo.cs", "kl ??= logDensity.sub(model.Prior.LogDensity(z)).mean([0]);", "kl ??= logDensity.sub(DiagonalGaussian.LogStandardNormal(z)).mean([0]);", "prior: Monte Carlo KL to N(0, I) whatever the prior", False),
    ("Models/VariationalAutoencoder.cs", "public Tensor? AnalyticKl(Tensor parameters) => Prior.IsStandard ? Posterior.AnalyticKlToStandardNormal(parameters) : null;", "public Tensor? AnalyticKl(Tensor parameters) => Posterior.AnalyticKlToStandardNormal(parameters);", "prior: closed-form KL to N(0, I) used with a learned prior", False),
    ("Objectives/ImportanceWeightedBound.cs", "Tensor logPrior = model.Prior.LogDensity(z);", "Tensor logPrior = DiagonalGaussian.LogStandardNormal(z);", "prior: importance weights with N(0, I) whatever the prior", False),
    ("Models/Priors/MixturePrior.cs", "return DiagonalGaussian.Sample(means.to(dtype, device).index_select(0, component), logVariances.to(dtype, device).index_select(0, component), epsilon)", "return DiagonalGaussian.Sample(means.to(dtype, device).index_select(0, component), logVariances.to(dtype, device).index_select(0, component).mul(0.5), epsilon)", "prior: mixture sampler with σ for σ²", False),
    # The IWAE family (check 12): MIWAE and CIWAE as a researcher might mistype them.
    ("Objectives/ImportanceWeightedBound.cs", "using Tensor perGroup = grouped.logsumexp(1).sub(Math.Log(k));", "using Tensor perGroup = grouped.logsumexp(1);", "objective: MIWAE's groups without −log K", False),
    ("Objectives/ImportanceWeightedBound.cs", "return perGroup.mean([0]);", "return perGroup.sum([0]);", "objective: MIWAE sums the M bounds instead of averaging", False),
    ("Objectives/ImportanceWeightedBound.cs", "using Tensor grouped = logWeights.view(groups, k, -1);", "using Tensor grouped = logWeights.view(k, groups, -1).transpose(0, 1);", "objective: MIWAE's groups strided, not K consecutive draws (same distribution, another definition)", False),
    ("Objectives/ImportanceWeightedBound.cs", "return elbo.mul(beta).add(iwae.mul(1 - beta));", "return elbo.mul(1 - beta).add(iwae.mul(beta));", "objective: CIWAE with β on IWAE", False),
    ("Objectives/ImportanceWeightedBound.cs", "using Tensor elbo = logWeights.mean([0]);", "using Tensor elbo = logWeights[0];", "objective: CIWAE's ELBO from the first draw only", False),
    ("Objectives/TrainingObjective.cs", "int samples = options.Kind == ObjectiveKind.Miwae ? options.MiwaeGroups * options.IwaeSamples : options.IwaeSamples;", "int samples = options.IwaeSamples;", "objective: training MIWAE draws K, not M·K", False),
    ("Objectives/TotalCorrelation.cs", "if (estimator == TcEstimator.MinibatchWeighted) return full(new long[] { m, m }, -Math.Log((double)datasetSize * m), dtype, device);", "if (estimator == TcEstimator.MinibatchWeighted) return full(new long[] { m, m }, -Math.Log((double)m), dtype, device);", "objective: β-TCVAE's minibatch-weighted estimate without log N (the published constant lost)", False),
    ("Objectives/TotalCorrelation.cs", "using (Tensor own = weights.diagonal()) own.fill_(-Math.Log(datasetSize));", "using (Tensor own = weights.diagonal()) own.fill_(-Math.Log(m));", "objective: β-TCVAE's stratified weights with 1/M for the own posterior", False),
    ("Objectives/TotalCorrelation.cs", "Tensor logMarginals = perDimension.add(logWeights.unsqueeze(2)).logsumexp(1).sum(1);", "Tensor logMarginals = perDimension.add(logWeights.unsqueeze(2)).logsumexp(0).sum(1);", "objective: β-TCVAE's marginals summed over the draws instead of the posteriors", False),
    ("Objectives/TotalCorrelation.cs", "Tensor logAggregate = perDimension.sum(2).add(logWeights).logsumexp(1);", "Tensor logAggregate = perDimension.sum(2).add(logWeights).logsumexp(1).sub(Math.Log(2));", "objective: β-TCVAE's log q(z) off by log 2", False),
    ("Objectives/TrainingObjective.cs", "loss = information.mul(options.TcAlpha).add(correlation.mul(options.BetaAt(step))).add(dimensionWise.mul(options.TcGamma)).sub(logLikelihood).mean();", "loss = information.mul(options.TcAlpha).add(correlation.mul(options.BetaAt(step))).sub(logLikelihood).mean();", "objective: β-TCVAE's loss without the dimension-wise KL", False),
]


def run(command, cwd, log):
    with open(log, "a") as out:
        return subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only mutants whose description matches this regular expression")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument("--checks", nargs="*", type=int, help="run only these checks of `vaelab check` (e.g. 7 for the gap entries); default all")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="vaelab-plant-")
    print(f"copying the repository to {work} …", flush=True)
    shutil.copytree(root, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", "results*", "TestResults"))
    log = os.path.join(work, "plant.log")
    cli = ["dotnet", "build", "src/VaeLab.Cli", "-c", "Release", "-v", "q", "-nologo"]
    check = ["dotnet", "src/VaeLab.Cli/bin/Release/net10.0/vaelab.dll", "check"] + (["--only", *map(str, args.checks)] if args.checks else [])
    if run(cli, work, log) != 0 or run(check, work, log) != 0:
        sys.exit(f"the unmutated copy does not build or does not pass `vaelab check`; see {log}")
    survivors, broken = [], []
    mutants = [m for m in MUTANTS if not args.only or re.search(args.only, m[3])]
    for index, (file, old, new, what, equivalent) in enumerate(mutants, 1):
        path = os.path.join(work, "src/VaeLab", file)
        source = open(path, encoding="utf-8").read()
        if source.count(old) != 1:
            sys.exit(f"mutant {index} ({what}): expected exactly one '{old}' in src/VaeLab/{file}, found {source.count(old)}: update the list")
        open(path, "w", encoding="utf-8").write(source.replace(old, new))
        started = time.time()
        try:
            if run(cli, work, log) != 0:
                outcome, code = "does not compile", None
            else:
                with open(log, "a") as out:
                    out.write(f"\n===== mutant {index}: {what}\n")
                result = subprocess.run(check, cwd=work, capture_output=True, text=True)
                open(log, "a").write(result.stdout + result.stderr)
                code = result.returncode
                failing = [line for line in result.stdout.splitlines() if "FAIL" in line]
                outcome = f"exit {code}" + (f", {len(failing)} table lines FAIL" if failing else "")
        finally:
            open(path, "w", encoding="utf-8").write(source)
        verdict = ("equivalent, passes as it should" if code == 0 else "EQUIVALENT BUT FAILED") if equivalent else \
                  ("caught" if code == 1 else ("not compiled" if code is None else "SURVIVED"))
        if equivalent and code not in (0, None): broken.append(what)
        if not equivalent and code == 0: survivors.append(what)
        print(f"{index:2d}. {verdict:32s} {what}  [{file}; {outcome}; {time.time() - started:.0f} s]", flush=True)
    run(cli, work, log)
    caught = sum(1 for m in mutants if not m[4]) - len(survivors)
    print(f"\n{caught} of {sum(1 for m in mutants if not m[4])} wrong formulas caught by `vaelab check`; "
          f"{sum(1 for m in mutants if m[4])} equivalent change(s); log: {log}")
    if not args.keep and not survivors and not broken:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if survivors or broken else 0)


if __name__ == "__main__":
    main()
