/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names of certgen's D-Bus contract, once, for the service and both
 * clients (introspection/org.certgen.Certificates1.xml is the contract;
 * tests/check-contract.py fails when this header and the XML disagree). */

#define CG_BUS_NAME "org.certgen.Certificates1"
#define CG_OBJECT_PATH "/org/certgen/Certificates1"
#define CG_MANAGER_INTERFACE "org.certgen.Certificates1.Manager"
#define CG_ERROR_PREFIX "org.certgen.Certificates1.Error."

/* The stages, in order (their index is a generation's "stage_index"). */
#define CG_STAGE_NAMES                                                                             \
	"initializing", "template_loading", "data_validation", "pdf_generation",                   \
	    "file_preparation", "download_ready", "completed"
#define CG_N_STAGE_NAMES 7
