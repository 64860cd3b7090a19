//! What the person reads instead of FHIR: the kinds of data by the names a patient knows (the
//! Dutch names follow the zibs' titles), counts with their plural, and dates written out.

use super::texts::Lang;

/// The name of the data a FHIR resource type holds, as a person calls it; an unknown type keeps
/// its own name rather than disappear.
pub fn data_name(resource_type: &str, lang: Lang) -> &str {
    let names = match resource_type {
        "Patient" => ("Persoonsgegevens", "Personal details"),
        "Coverage" => ("Verzekering", "Insurance"),
        "Consent" => ("Wilsverklaringen", "Advance directives"),
        "Observation" => ("Metingen en uitslagen", "Measurements and results"),
        "Condition" => ("Problemen", "Health problems"),
        "NutritionOrder" => ("Voedingsadviezen", "Nutrition advice"),
        "Flag" => ("Alerts", "Alerts"),
        "AllergyIntolerance" => ("Allergieën", "Allergies"),
        "MedicationStatement" => ("Medicatiegebruik", "Medication use"),
        "MedicationRequest" => ("Medicatieafspraken", "Medication agreements"),
        "MedicationDispense" => ("Verstrekte medicatie", "Dispensed medication"),
        "Medication" => ("Geneesmiddelen", "Medicines"),
        "DeviceUseStatement" | "Device" => ("Medische hulpmiddelen", "Medical devices"),
        "DeviceRequest" => ("Geplande hulpmiddelen", "Planned medical devices"),
        "Immunization" => ("Vaccinaties", "Vaccinations"),
        "ImmunizationRecommendation" => ("Vaccinatieadviezen", "Vaccination advice"),
        "Procedure" => ("Verrichtingen", "Procedures"),
        "ProcedureRequest" => ("Geplande verrichtingen", "Planned procedures"),
        "Encounter" => ("Contacten", "Visits"),
        "Appointment" => ("Afspraken", "Appointments"),
        "Specimen" => ("Monsters", "Specimens"),
        "Organization" => ("Zorginstellingen", "Care organisations"),
        "Practitioner" | "PractitionerRole" => ("Zorgverleners", "Care professionals"),
        "RelatedPerson" => ("Contactpersonen", "Contacts"),
        "Location" => ("Locaties", "Locations"),
        "DocumentReference" | "DocumentManifest" | "Binary" => ("Documenten", "Documents"),
        _ => return resource_type,
    };
    match lang {
        Lang::Nl => names.0,
        Lang::En => names.1,
    }
}

/// `count` items of the person's data: "1 onderdeel", "34 onderdelen"; "1 item", "34 items".
pub fn items(count: usize, lang: Lang) -> String {
    let word = match (lang, count) {
        (Lang::Nl, 1) => "onderdeel",
        (Lang::Nl, _) => "onderdelen",
        (Lang::En, 1) => "item",
        (Lang::En, _) => "items",
    };
    format!("{count} {word}")
}

/// A date written out: "5 december 2026", "5 December 2026".
pub fn long_date(date: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    format!("{} {} {}", date.day(), lang.month(date.month0() as usize), date.year())
}

/// A moment written out: "5 december 2026, 14:03".
pub fn long_date_time(moment: chrono::NaiveDateTime, lang: Lang) -> String {
    format!("{}, {}", long_date(moment.date(), lang), moment.format("%H:%M"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_reads_names_not_resource_types() {
        assert_eq!(data_name("DeviceUseStatement", Lang::Nl), "Medische hulpmiddelen");
        assert_eq!(data_name("AllergyIntolerance", Lang::En), "Allergies");
        assert_eq!(data_name("SomethingNew", Lang::Nl), "SomethingNew");
    }

    #[test]
    fn counts_have_their_plural() {
        assert_eq!(items(1, Lang::Nl), "1 onderdeel");
        assert_eq!(items(34, Lang::Nl), "34 onderdelen");
        assert_eq!(items(1, Lang::En), "1 item");
        assert_eq!(items(0, Lang::En), "0 items");
    }

    #[test]
    fn dates_are_written_out_in_the_language() {
        let moment = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).and_then(|date| date.and_hms_opt(14, 3, 0));
        let moment = moment.expect("a valid moment");
        assert_eq!(long_date_time(moment, Lang::Nl), "5 december 2026, 14:03");
        assert_eq!(long_date(moment.date(), Lang::En), "5 December 2026");
    }
}
