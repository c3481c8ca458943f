//! The multi-step flow a document describes with `x-two-phase`: prepare only, phase one, a wrong
//! hash and malformed transaction hashes, phase two.

use super::*;

impl Suite<'_> {
    /// The two-phase flow the spec describes (`x-two-phase`), on the on-chain CVM when there is
    /// one: prepare-only, phase one, phase two with a wrong hash, phase two.
    pub(super) async fn header_flows(&self) -> Result<(), Exhausted> {
        if self.s.mode != Mode::Full {
            return Ok(());
        }
        let (Some(id), Some(flow)) = (self.s.onchain_cvm_id.clone(), self.subj.two_phase.clone())
        else {
            return Ok(());
        };
        let path = self.path(&id);
        let body = flow.trigger_body(self.s.seed % 1000);
        let hdr = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let flow_check = |ex: &Exchange, allowed: &[u16], what: &str| {
            for v in self.common(self.update(), ex, "(header flow)", true, Some(&body), None) {
                self.rec.record(v);
            }
            self.rec.tick(checks::HEADER_FLOWS, what);
            self.rec.cover("(header flow)", what, ex);
            if let Some(s) = ex.status() {
                if !allowed.contains(&s) {
                    let m = format!("{what}: got {s}, expected one of {allowed:?}");
                    self.rec.record(self.rec.violation(
                        checks::HEADER_FLOWS,
                        what,
                        None,
                        m,
                        ex,
                        true,
                    ));
                }
            }
        };

        let ex = self
            .target
            .send(
                "PATCH",
                &path,
                &hdr(&[(&flow.prepare_header, "true")]),
                Some(&body),
                Auth::Key,
            )
            .await?;
        flow_check(&ex, &flow.prepare_statuses, "prepare_only");

        let ex = self
            .target
            .send("PATCH", &path, &[], Some(&body), Auth::Key)
            .await?;
        flow_check(&ex, &[flow.starts], "phase_1");
        let hash = ex.outcome.ok().and_then(|a| a.json()).and_then(|v| {
            v.get(&flow.hash_field)
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let Some(hash) = hash else { return Ok(()) };

        let wrong = self
            .target
            .send(
                "PATCH",
                &path,
                &hdr(&[
                    (&flow.hash_header, "0xdeadbeef"),
                    (&flow.transaction_header, "0xabc"),
                ]),
                Some(&body),
                Auth::Key,
            )
            .await?;
        flow_check(&wrong, &flow.wrong_hash_statuses, "phase_2_wrong_hash");

        // The right hash with transaction hashes that cannot be one: left out, empty, not hex,
        // a bare prefix.
        if !flow.bad_transaction_statuses.is_empty() {
            for (what, tx) in [
                ("phase_2_no_transaction", None),
                ("phase_2_empty_transaction", Some("")),
                ("phase_2_transaction_not_hex", Some("not-a-transaction")),
                ("phase_2_transaction_bare_prefix", Some("0x")),
            ] {
                let mut headers = vec![(flow.hash_header.as_str(), hash.as_str())];
                headers.extend(tx.map(|t| (flow.transaction_header.as_str(), t)));
                let ex = self
                    .target
                    .send("PATCH", &path, &hdr(&headers), Some(&body), Auth::Key)
                    .await?;
                flow_check(&ex, &flow.bad_transaction_statuses, what);
            }
        }

        let tx = format!("0x{}", "ab".repeat(32));
        let ex = self
            .target
            .send(
                "PATCH",
                &path,
                &hdr(&[(&flow.hash_header, &hash), (&flow.transaction_header, &tx)]),
                Some(&body),
                Auth::Key,
            )
            .await?;
        flow_check(&ex, &flow.finish_statuses, "phase_2");
        Ok(())
    }
}
