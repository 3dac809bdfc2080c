using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Tests.Derivation;

/// <summary>
/// Wrong versions of the library's components, each wrapped around the real one and differing in one step of the
/// maths, for the tests that assert the derivation checks catch them.
/// </summary>
internal static class PlantedFaults
{
    /// <summary>A likelihood whose log-density drops the ½ log 2π of every dimension.</summary>
    public sealed class DroppedHalfLog2Pi(Likelihood inner) : Likelihood("DroppedHalfLog2Pi")
    {
        public override int OutputsPerDimension => inner.OutputsPerDimension;
        public override bool IsContinuousDensity => inner.IsContinuousDensity;
        public override int? DiscreteLevels => inner.DiscreteLevels;
        public override string Description => inner.Description;
        public override string Signature => inner.Signature;
        public override Tensor LogProb(Tensor x, Tensor decoderOutput)
        {
            using Tensor right = inner.LogProb(x, decoderOutput);
            return right.add(0.5 * Math.Log(2 * Math.PI) * x.shape[1]);
        }
        public override Tensor Mean(Tensor decoderOutput) => inner.Mean(decoderOutput);
        public override Tensor Sample(Tensor decoderOutput, Generator? generator = null) => inner.Sample(decoderOutput, generator);
    }

    /// <summary>An encoder that hands out log σ where the library expects log σ².</summary>
    public sealed class LogSigmaForLogVariance(Encoder inner) : Encoder("LogSigmaForLogVariance", inner.LatentDimensions, inner.OutputSize)
    {
        public override string Signature => inner.Signature;
        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            Tensor[] parts = inner.forward(x).chunk(2, 1);   // [μ, log σ²] of the diagonal Gaussian
            return cat([parts[0], parts[1].mul(0.5)], 1).MoveToOuterDisposeScope();
        }
    }

    /// <summary>A decoder whose outputs are 0.1 % too large: the affine map Wz + b is off by one part in a thousand.</summary>
    public sealed class SlightlyScaled(Decoder inner) : Decoder("SlightlyScaled")
    {
        public override string Signature => inner.Signature;
        public override Tensor forward(Tensor z)
        {
            using Tensor output = inner.forward(z);
            return output.mul(1.001);
        }
    }

    /// <summary>A decoder whose output depends on the rest of the batch (as batch statistics would): each row is no longer p(x|z) of its own z.</summary>
    public sealed class BatchCoupled(Decoder inner) : Decoder("BatchCoupled")
    {
        public override string Signature => inner.Signature;
        public override Tensor forward(Tensor z)
        {
            using var scope = NewDisposeScope();
            return inner.forward(z).add(z.mean().mul(0.05)).MoveToOuterDisposeScope();
        }
    }
}
