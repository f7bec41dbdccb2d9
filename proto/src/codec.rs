//! The protobuf codec every generated client and server uses: prost's, with
//! small per-call buffers.
//!
//! tonic allocates an encode and a decode buffer for every call up front
//! (8 KiB each by default) and keeps them for the call's life. An agent
//! session is one call that lives for days, and a hub holds thousands, so
//! the buffers start at 1 KiB and grow in 1 KiB steps only when a message
//! needs it (desired states are the only large ones).

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Initial size (and growth step) of a call's buffers.
const BUFFER_BYTES: usize = 1024;
/// How much a stream encodes before yielding (tonic's default).
const YIELD_THRESHOLD: usize = 32 * 1024;

/// prost encoding with compact buffers.
#[derive(Debug, Clone)]
pub struct CompactCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for CompactCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

fn settings() -> BufferSettings {
    BufferSettings::new(BUFFER_BYTES, YIELD_THRESHOLD)
}

impl<T, U> Codec for CompactCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(settings())
    }
}
