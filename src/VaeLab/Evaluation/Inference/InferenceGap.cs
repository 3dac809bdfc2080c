using System.Diagnostics;
using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// The inference gap of a trained VAE on held-out data, decomposed (<see cref="GapDecomposition"/>): log p̂(x) by importance
/// sampling and by AIS, L[q] of the encoder, L[q*] of the per-example optimum, and the approximation and amortisation gaps.
/// The data is treated once (dequantised for a density on 8-bit pixels) so every estimator sees the same x.
/// </summary>
public static class InferenceGap
{
    /// <summary>Decomposes the gap over <paramref name="data"/>; deterministic for a seed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Settings out of range.</exception>
    /// <exception cref="ArgumentException">Data whose example shape does not match the model, or a likelihood that cannot be evaluated on it.</exception>
    public static GapDecomposition Decompose(VariationalAutoencoder model, Dataset data, GapOptions? options = null, long seed = 0, PixelTreatment? treatment = null,
        IProgress<InferenceProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new GapOptions();
        options.Validate();
        if (data.Dimension != model.InputDimensions)
            throw new ArgumentException($"The model takes {model.InputDimensions} values per example ({string.Join("x", model.InputShape)}), but '{data.Name}' has {data.Dimension}.", nameof(data));
        if (data.Count < 1) throw new ArgumentException($"'{data.Name}' has no examples.", nameof(data));
        treatment ??= PixelTreatment.Resolve(model.Likelihood, data);
        double jacobian = treatment.LogJacobianNats(data.Dimension);
        using var generator = new Generator((ulong)seed);
        model.eval();
        var parameter = model.parameters().First();
        using var scope = NewDisposeScope();
        Tensor x;
        using (no_grad())
            x = treatment.Apply(data.Examples.to(TorchRuntime.Device), generator).to(parameter.dtype).view(data.Count, -1);

        // Importance sampling on the treated x, as it is (nothing more to dequantise).
        var clock = Stopwatch.StartNew();
        progress?.Report(new InferenceProgress($"IS-{options.ImportanceSamples}", 0, data.Count));
        using var treated = new Dataset(data.Name, data.Origin, x.view([data.Count, .. data.ExampleShape]));
        var asIs = new PixelTreatment(Binarization.None, false, null, treatment.Label, treatment.Meaning, treatment.IsProbabilityOfData);
        // Its own stream: the dequantisation above drew from `seed`, and the weights must not reuse those numbers.
        LogLikelihoodEstimate importance = Evaluator.ImportanceSampledLogLikelihood(model, treated, options.ImportanceSamples, seed + 1_000_003, treatment: asIs);
        double[] isValues = importance.PerExampleNats!.Select(v => v - jacobian).ToArray();
        double isSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        AisEstimate ais = AnnealedImportanceSampling.Forward(model, x, options.AisSettings, generator, progress, cancellation);
        double[] aisValues = ais.PerExampleNats.Select(v => v - jacobian).ToArray();
        double aisSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var (encoder, local, steps, encoderVariance, localVariance) = EncoderAndLocal(model, x, options.LocalSettings, generator, progress, cancellation);
        double localSeconds = clock.Elapsed.TotalSeconds;
        double[] encoderValues = encoder.Select(v => v - jacobian).ToArray(), localValues = local.Select(v => v - jacobian).ToArray();

        bool aisBetter = aisValues.Average() >= isValues.Average();
        double[] best = aisBetter ? aisValues : isValues;
        int n = data.Count;
        double[] approximation = new double[n], amortisation = new double[n], total = new double[n];
        for (int i = 0; i < n; i++)
        {
            approximation[i] = best[i] - localValues[i];
            amortisation[i] = localValues[i] - encoderValues[i];
            total[i] = best[i] - encoderValues[i];
        }
        return new GapDecomposition(n, data.Dimension, options.ImportanceSamples, NatsWithError.Of(isValues), NatsWithError.Of(aisValues), NatsWithError.Of(best),
            aisBetter ? "AIS" : $"IS-{options.ImportanceSamples}", NatsWithError.Of(encoderValues), NatsWithError.Of(localValues),
            NatsWithError.Of(approximation), NatsWithError.Of(amortisation), NatsWithError.Of(total), options.AisSettings, options.LocalSettings, steps,
            new GapTimings(isSeconds, aisSeconds, localSeconds))
        {
            AisAcceptance = ais.MeanAcceptance,
            AisMonteCarloStandardError = ais.MonteCarloStandardError,
            ImportanceSamplingMonteCarloStandardError = importance.MonteCarloStandardError,
            ElboEncoderMonteCarloStandardError = Math.Sqrt(encoderVariance) / n,
            ElboLocalMonteCarloStandardError = Math.Sqrt(localVariance) / n,
            Treatment = treatment,
            PerExample = new GapPerExample(isValues, aisValues, best, encoderValues, localValues, approximation, amortisation, total),
        };
    }

    // L[q] of the encoder and L[q*] of the fitted optimum for every example, scored by the same estimator, batch by batch.
    static (double[] Encoder, double[] Local, double MeanSteps, double EncoderVariance, double LocalVariance) EncoderAndLocal(VariationalAutoencoder model, Tensor x, LocalPosteriorOptions options, Generator generator,
        IProgress<InferenceProgress>? progress, CancellationToken cancellation)
    {
        long n = x.shape[0];
        var encoder = new List<double>((int)n);
        var local = new List<double>((int)n);
        double steps = 0, encoderVariance = 0, localVariance = 0;
        int batches = 0;
        for (long start = 0; start < n; start += options.ExamplesPerBatch)
        {
            using var scope = NewDisposeScope();
            long end = Math.Min(start + options.ExamplesPerBatch, n);
            progress?.Report(new InferenceProgress("local q*", start, n));
            Tensor batch = x.slice(0, start, end, 1);
            Tensor parameters;
            using (no_grad())
                parameters = model.Encode(batch.view([end - start, .. model.InputShape]));
            // q and q* are scored with the same ε (common random numbers): their difference, the amortisation gap, is then much
            // less noisy than either score.
            ulong scoring;
            using (Tensor draw = randint(long.MaxValue, [1], dtype: ScalarType.Int64, generator: generator)) scoring = (ulong)draw.item<long>();
            (Tensor encoderElbo, Tensor encoderSpread) score;
            using (var common = new Generator(scoring))
                score = LocalPosterior.Score(model, batch, parameters, options.EvaluationSamples, common);
            var (encoderElbo, encoderSpread) = score;
            var (fitted, taken) = LocalPosterior.Fit(model, batch, parameters, options, generator, cancellation);
            (Tensor localElbo, Tensor localSpread) localScore;
            using (var common = new Generator(scoring))
                localScore = LocalPosterior.Score(model, batch, fitted, options.EvaluationSamples, common);
            var (localElbo, localSpread) = localScore;
            encoderVariance += encoderSpread.sum().item<double>();
            localVariance += localSpread.sum().item<double>();
            encoder.AddRange(encoderElbo.cpu().data<double>().ToArray());
            local.AddRange(localElbo.cpu().data<double>().ToArray());
            steps += taken;
            batches++;
        }
        progress?.Report(new InferenceProgress("local q*", n, n));
        return (encoder.ToArray(), local.ToArray(), steps / Math.Max(batches, 1), encoderVariance, localVariance);
    }
}
